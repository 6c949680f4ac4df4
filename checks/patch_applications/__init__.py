"""Checks for the patch_applications strategy."""
