"""Directory facts: LDAP search lines (:mod:`scanner.model.ldap_search`) and their parsers.

A search's output is the JSON document the directory transport writes (its entries, the
references it did not follow); the exit code is the LDAP result code.
"""
