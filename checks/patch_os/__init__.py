"""Checks for the patch_os strategy."""
