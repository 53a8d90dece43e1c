"""Outbound campaigns (SPEC 12): campaigns as data, the scheduler, caller-ID policy, AMD. Pure core."""
