"""Linux facts: literal POSIX ``sh`` commands (shellchecked in CI) and their parsers."""
