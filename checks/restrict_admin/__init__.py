"""Checks for the restrict_admin strategy."""
