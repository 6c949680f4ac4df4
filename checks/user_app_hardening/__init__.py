"""Checks for the user_app_hardening strategy."""
