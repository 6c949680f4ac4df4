"""Checks for the application_control strategy."""
