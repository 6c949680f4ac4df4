"""The one error type for bad input: it prints as one line naming where and what was expected."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input (inventory, policy, exceptions, CLI value).

    ``where`` names the file and line (``site.ini:12``) or the field (``--limit``); the message
    says what was found and what was expected. The CLI prints ``e8scan: error: WHERE: MESSAGE``
    and exits 1, never a traceback.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message
