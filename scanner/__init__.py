"""e8scan: an agentless Essential Eight compliance scanner."""

__version__ = "0.1.0"
