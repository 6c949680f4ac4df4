"""Checks for the office_macros strategy."""
