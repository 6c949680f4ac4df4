"""The one error type for bad input: it prints as one line naming where and what was expected."""

from __future__ import annotations

import re

from pydantic import ValidationError

_FIELD_FIRST = re.compile(r"^([A-Za-z_][\w.]*): (.*)$")


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


def first_error(exc: ValidationError) -> tuple[str, str]:
    """(field path or "", message) of a pydantic error, on one line: the first problem only.

    A model-level check names its field itself, as ``"hosts.0.level: what is wrong"``; a file
    that is not JSON at all has no field."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    msg = " ".join(str(err["msg"]).removeprefix("Value error, ").split())
    if not field and (m := _FIELD_FIRST.match(msg)):
        field, msg = m.group(1), m.group(2)
    return field, msg


def field_where(where: str, exc: ValidationError) -> tuple[str, str]:
    """``where`` (a file, file:line) with the failing field appended, and the message."""
    field, msg = first_error(exc)
    return (f"{where}: field {field}" if field else where), msg
