"""Windows facts: PowerShell in ``.ps1`` files beside their modules, printing JSON, and parsers."""
