"""Facts: what checks read from hosts, each a read-only command plus a pure parser.

A fact (:class:`checks.facts.fact.Fact`) is the unit a check is built from: it declares one
literal command (Linux) or one ``.ps1`` file beside its module (Windows), and a parser that turns
the command's output into a typed value or an :class:`~checks.facts.fact.Unknown` carrying the
reason it could not — never an exception, never a verdict. Checks compose facts into findings.

Every fact is tested on its own from recorded outputs (``tests/facts/<fact name>/<case>.json``),
every ``.ps1`` is parsed by an independent PowerShell parser and every Linux command is
shellchecked in CI (``tests/facts``).
"""
