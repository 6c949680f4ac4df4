"""Kerberos for the WS-Man test server: a GSSAPI acceptor over a keytab, and WinRM message encryption.

**Acceptor.** Each server holds its own acceptor credential, read from the keytab it was given
through the GSSAPI credential store (``{"keytab": path}``), so no process-global ``KRB5_KTNAME`` is
set and servers with different keytabs can run side by side. The acceptor takes what a Windows
listener takes under ``WWW-Authenticate: Negotiate`` or ``Kerberos``: a raw Kerberos AP-REQ (what
pywinrm and e8scan send) or a SPNEGO token wrapping one. Its answer, the AP-REP, goes back in the
``WWW-Authenticate`` header of the *successful* reply (mutual authentication), as HTTP.sys does.
A refused AP-REQ (a ticket for another key, a clock too far off) gets a 401 that carries the
KRB-ERROR token MIT's acceptor produced, so a client can say why. Like NTLM, Kerberos authenticates
the TCP connection, not each request.

**Message encryption** over ``http://`` (MS-WSMV 2.2.9.1.2): the framing of NTLM's (see
``ntlm.py``), with a protocol of ``application/HTTP-SPNEGO-session-encrypted`` (what pywinrm and
e8scan send under ``Negotiate``) or ``application/HTTP-Kerberos-session-encrypted`` (Windows'
name under the ``Kerberos`` scheme); replies use the protocol of the request. The sealed part is
``<uint32 LE header length><GSS wrap token header><encrypted data>``: the header and the data are
the IOV buffers of ``gss_wrap_iov`` with DCE-style layout, as SSPI's ``EncryptMessage`` lays them
out (header, data, padding; the padding is empty with AES and appended to the data with RC4).
"""

from __future__ import annotations

import struct

import gssapi
import gssapi.raw as graw
from gssapi.raw import IOV, IOVBufferType

from .ntlm import BOUNDARY, EncryptionError, split_encrypted

KRB5_MECH = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
PROTOCOLS = (
    "application/HTTP-SPNEGO-session-encrypted",
    "application/HTTP-Kerberos-session-encrypted",
)
_OCTET = b"\tContent-Type: application/octet-stream\r\n"


def acceptor_credentials(keytab: str) -> gssapi.Credentials:
    """The acceptor credential for every key in ``keytab`` (read through the credential store)."""
    return gssapi.Credentials(usage="accept", store={"keytab": keytab})


class Acceptor:
    """One connection's Kerberos context (``channel_bindings``: checked when the client sends some).

    Built on the raw ``gss_accept_sec_context``, which raises a refusal at once with the error
    token attached (the high-level ``SecurityContext`` hands the token back and defers the error).
    """

    def __init__(self, creds: gssapi.Credentials, channel_bindings: bytes | None = None) -> None:
        self._creds = creds
        self._bindings = (
            graw.ChannelBindings(application_data=channel_bindings)
            if channel_bindings is not None
            else None
        )
        self._ctx: graw.SecurityContext | None = None
        self._flags = 0
        self._complete = False
        self._principal = ""
        self.delegated = False

    def step(self, token: bytes) -> bytes | None:
        """The reply token (the AP-REP); raises ``GSSError`` (``.token``: the KRB-ERROR) when refused."""
        res = graw.accept_sec_context(
            token, self._creds, context=self._ctx, channel_bindings=self._bindings
        )
        self._ctx, self._flags, self._complete = res.context, int(res.flags), not res.more_steps
        if res.initiator_name is not None:
            self._principal = str(gssapi.Name(base=res.initiator_name)).rstrip("\x00")
        self.delegated = res.delegated_creds is not None
        return res.token

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def principal(self) -> str:
        """The client principal the acceptor authenticated (``user@REALM``)."""
        return self._principal

    @property
    def channel_bound(self) -> bool:
        """Whether the client's channel bindings were checked and matched (MIT ≥ 1.19 says so)."""
        return bool(self._flags & gssapi.RequirementFlag.channel_bound)

    def wrap(self, plain: bytes) -> tuple[bytes, bytes]:
        """(header, encrypted data + padding) of one message from the server."""
        iov = IOV(IOVBufferType.header, plain, IOVBufferType.padding, std_layout=False)
        assert self._ctx is not None
        graw.wrap_iov(self._ctx, iov, confidential=True)
        return iov[0].value or b"", (iov[1].value or b"") + (iov[2].value or b"")

    def unwrap(self, header: bytes, data: bytes) -> bytes:
        iov = IOV((IOVBufferType.header, False, header), data, IOVBufferType.data, std_layout=False)
        assert self._ctx is not None
        res = graw.unwrap_iov(self._ctx, iov)
        if not res.encrypted:
            raise EncryptionError("the message was signed but not sealed")
        return iov[1].value or b""


def encrypted_protocol(content_type: str) -> str | None:
    """The session-encryption protocol of a ``multipart/encrypted`` body, or None."""
    lowered = content_type.lower()
    if not lowered.startswith("multipart/encrypted"):
        return None
    for protocol in PROTOCOLS:
        if f'protocol="{protocol.lower()}"' in lowered:
            return protocol
    return None


def content_type(protocol: str) -> str:
    return f'multipart/encrypted;protocol="{protocol}";boundary="Encrypted Boundary"'


def unwrap_message(acceptor: Acceptor, body: bytes) -> bytes:
    """Decrypt a ``multipart/encrypted`` request body with the connection's Kerberos context."""
    length, payload = split_encrypted(body)
    header_length = struct.unpack("<I", payload[:4])[0]
    if not 16 <= header_length <= len(payload) - 4:
        raise EncryptionError(f"implausible Kerberos header length {header_length}")
    header, data = payload[4 : 4 + header_length], payload[4 + header_length :]
    try:
        plain = acceptor.unwrap(header, data)
    except EncryptionError:
        raise
    except Exception as exc:  # gssapi's errors: bad checksum, sequence out of order, …
        raise EncryptionError(f"cannot unseal: {exc}") from None
    if len(plain) != length:
        raise EncryptionError(f"decrypted {len(plain)} bytes, header says {length}")
    return plain


def wrap_message(acceptor: Acceptor, plain: bytes, protocol: str) -> bytes:
    """Encrypt a reply body in the same framing, under the request's ``protocol``."""
    header, data = acceptor.wrap(plain)
    return (
        BOUNDARY
        + b"\r\n\tContent-Type: "
        + protocol.encode()
        + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(plain)).encode()
        + b"\r\n"
        + BOUNDARY
        + b"\r\n"
        + _OCTET
        + struct.pack("<I", len(header))
        + header
        + data
        + BOUNDARY
        + b"--\r\n"
    )
