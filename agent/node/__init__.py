"""The agent's Node: host facts, registration, the Lease heartbeat and node status."""
