"""Checks for the mfa strategy."""
