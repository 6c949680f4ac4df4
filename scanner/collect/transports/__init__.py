"""Transports: the only code that talks to hosts. One small interface, one module per protocol."""
