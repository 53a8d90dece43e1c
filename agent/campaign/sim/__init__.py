"""The campaign simulator: simulated customers, the virtual-clock run, an independent checker."""
