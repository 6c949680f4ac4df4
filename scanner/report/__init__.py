"""Writers: they take finished models and write files. They make no decisions."""
