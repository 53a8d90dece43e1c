"""`voice-agent talk`: a live call between the local microphone/speaker and the agent."""
