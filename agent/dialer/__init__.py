"""The dialer: pacing by real capacity and each gateway's control API."""
