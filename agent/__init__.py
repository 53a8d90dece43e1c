"""voice-agent: a compliant, CPU-first voice-agent runtime for consumer-finance calls."""
