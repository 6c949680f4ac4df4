"""SOAP/WS-Management envelopes: parse requests by namespace URI, build Windows-shaped replies.

Requests are parsed by namespace URI, never by prefix (pywinrm writes ``env:``/``a:``/``w:``,
Windows ``s:``/``a:``/``w:``); ``a:To`` is not validated (pywinrm hard-codes
``http://windows-host:5985/wsman``). Replies copy the shape of real-host recordings
(jborean93/pypsrp ``tests/responses/test_winrs_*.yml``): the ``s/a/x/w/rsp/p`` prefixes on the
envelope, ``{action}Response`` with ``a:RelatesTo`` = the request's MessageID, and faults with
``s:Code``/``s:Subcode``/``s:Reason``/``s:Detail/f:WSManFault[@Code,@Machine]/f:Message``.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

S = "http://www.w3.org/2003/05/soap-envelope"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
X = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
P = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
E = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
STATE_RUNNING = f"{RSP}/CommandState/Running"
STATE_DONE = f"{RSP}/CommandState/Done"

ACTIONS = {
    f"{X}/Create": "Create",
    f"{X}/Delete": "Delete",
    f"{RSP}/Command": "Command",
    f"{RSP}/Send": "Send",
    f"{RSP}/Receive": "Receive",
    f"{RSP}/Signal": "Signal",
}

# WSManFault codes (windows wsmerror.h) and the texts real hosts send with them.
TIMED_OUT = 2150858793  # 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
INVALID_SELECTORS = 2150858843  # 0x8033805B ERROR_WSMAN_UNEXPECTED_SELECTORS
ACTION_NOT_SUPPORTED = 2150858771  # 0x80338013
SCHEMA_VALIDATION = 2150858817  # 0x80338041
ACCESS_DENIED = 5  # Win32 ERROR_ACCESS_DENIED, as WinRM reports it

_ENVELOPE_NS = (
    f'xmlns:s="{S}" xmlns:a="{A}" xmlns:x="{X}" xmlns:w="{W}" xmlns:rsp="{RSP}" xmlns:p="{P}"'
)
_FAULT_NS = f'xmlns:s="{S}" xmlns:a="{A}" xmlns:x="{X}" xmlns:e="{E}" xmlns:n="{N}" xmlns:w="{W}" xmlns:p="{P}"'


class BadRequest(Exception):
    """The body is not a SOAP 1.2 envelope we can read."""


@dataclass
class Request:
    action: str
    message_id: str
    operation_timeout: float | None
    shell_id: str | None
    options: dict[str, str] = field(default_factory=dict)
    body: ET.Element | None = None  # the first child of s:Body

    @property
    def short_action(self) -> str:
        return ACTIONS.get(self.action, self.action.rsplit("/", 1)[-1])


def parse_request(data: bytes) -> Request:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise BadRequest(f"not XML: {exc}") from None
    if root.tag != f"{{{S}}}Envelope":
        raise BadRequest(f"root element is {root.tag}, not a SOAP 1.2 Envelope")
    header = root.find(f"{{{S}}}Header")
    body = root.find(f"{{{S}}}Body")
    if header is None:
        raise BadRequest("no s:Header")
    action = (header.findtext(f"{{{A}}}Action") or "").strip()
    shell_id = None
    for selector in header.iterfind(f"{{{W}}}SelectorSet/{{{W}}}Selector"):
        if selector.get("Name") == "ShellId":
            shell_id = (selector.text or "").strip()
    options = {
        opt.get("Name", ""): (opt.text or "").strip()
        for opt in header.iterfind(f"{{{W}}}OptionSet/{{{W}}}Option")
    }
    timeout = header.findtext(f"{{{W}}}OperationTimeout")
    return Request(
        action=action,
        message_id=(header.findtext(f"{{{A}}}MessageID") or "").strip(),
        operation_timeout=parse_duration(timeout) if timeout else None,
        shell_id=shell_id,
        options=options,
        body=body[0] if body is not None and len(body) else None,
    )


def parse_duration(text: str) -> float | None:
    """xs:duration (``PT20S``, ``PT1M30.5S``, ``P0DT0H0M5S``) → seconds."""
    m = re.fullmatch(r"\s*P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d*)?)S)?)?\s*", text)
    if not m:
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def new_id() -> str:
    """A GUID the way WinRM writes ShellId/CommandId/MessageID (upper case)."""
    return str(uuid.uuid4()).upper()


def response(action: str, relates_to: str, body: str) -> bytes:
    """A reply envelope for ``action`` (its ``…Response`` action) with ``body`` inside s:Body."""
    return (
        f'<s:Envelope xml:lang="en-US" {_ENVELOPE_NS}><s:Header>'
        f"<a:Action>{escape(action)}Response</a:Action>"
        f"<a:MessageID>uuid:{new_id()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


@dataclass(frozen=True)
class Fault:
    """One WS-Management fault (sent with HTTP 500)."""

    code: str  # s:Sender | s:Receiver
    subcode: str  # e.g. w:TimedOut
    reason: str
    wsman_code: int
    message: str
    detail: str | None = None  # w:FaultDetail URI

    def render(self, relates_to: str, machine: str) -> bytes:
        detail = f"<w:FaultDetail>{escape(self.detail)}</w:FaultDetail>" if self.detail else ""
        return (
            f'<s:Envelope xml:lang="en-US" {_FAULT_NS}><s:Header>'
            f"<a:Action>{FAULT_ACTION}</a:Action>"
            f"<a:MessageID>uuid:{new_id()}</a:MessageID>"
            f"<a:To>{ANONYMOUS}</a:To>"
            f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
            "</s:Header><s:Body><s:Fault>"
            f"<s:Code><s:Value>{self.code}</s:Value><s:Subcode><s:Value>{self.subcode}</s:Value></s:Subcode></s:Code>"
            f'<s:Reason><s:Text xml:lang="en-US">{escape(self.reason)}</s:Text></s:Reason>'
            f'<s:Detail>{detail}<f:WSManFault xmlns:f="{F}" Code="{self.wsman_code}" Machine={quoteattr(machine)}>'
            f"<f:Message>{escape(self.message)}</f:Message></f:WSManFault></s:Detail>"
            "</s:Fault></s:Body></s:Envelope>"
        ).encode()


_TIMED_OUT_TEXT = (
    "The WS-Management service cannot complete the operation within the time specified in "
    "OperationTimeout.  "
)
_SELECTORS_TEXT = (
    "The WS-Management service cannot process the request because the request contained invalid selectors "
    "for the resource. "
)
_UNEXPECTED_SELECTORS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"


def timed_out() -> Fault:
    return Fault("s:Receiver", "w:TimedOut", _TIMED_OUT_TEXT, TIMED_OUT, _TIMED_OUT_TEXT)


def unknown_shell(shell_id: str | None) -> Fault:
    message = (
        f"The request for the Windows Remote Shell with ShellId {shell_id or ''} failed because the shell was "
        "not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no "
        "longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation. "
    )
    return Fault(
        "s:Sender",
        "w:InvalidSelectors",
        _SELECTORS_TEXT,
        INVALID_SELECTORS,
        message,
        _UNEXPECTED_SELECTORS,
    )


def unknown_command() -> Fault:
    message = (
        "The Windows Remote Shell received a request to perform an operation on a command identifier that does "
        "not exist. Either the command has completed execution or the client specified an invalid command "
        "identifier. "
    )
    return Fault(
        "s:Sender",
        "w:InvalidSelectors",
        _SELECTORS_TEXT,
        INVALID_SELECTORS,
        message,
        _UNEXPECTED_SELECTORS,
    )


def action_not_supported(action: str) -> Fault:
    text = "The WS-Management service does not support the action specified in the request. "
    return Fault(
        "s:Sender", "a:ActionNotSupported", text, ACTION_NOT_SUPPORTED, f"{text}Action: {action}"
    )


def schema_error(why: str) -> Fault:
    text = "The SOAP XML in the message does not match the corresponding XML schema definition. "
    return Fault("s:Sender", "w:SchemaValidationError", text, SCHEMA_VALIDATION, f"{text}{why}")


def access_denied() -> Fault:
    return Fault(
        "s:Sender", "w:AccessDenied", "Access is denied. ", ACCESS_DENIED, "Access is denied. "
    )


def process_failed(win32_code: int, message: str) -> Fault:
    return Fault("s:Receiver", "w:InternalError", message, win32_code, message)
