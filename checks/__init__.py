"""Built-in e8scan checks: one module per check, a folder per Essential Eight strategy."""
