"""Checks for the backups strategy."""
