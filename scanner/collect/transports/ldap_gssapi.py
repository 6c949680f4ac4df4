"""Kerberos (SASL GSSAPI, RFC 4752) binds for the directory transport, with a security layer.

ldap3's own GSSAPI bind authenticates only: it refuses a server that asks for a security layer.
A domain controller that requires strong authentication — Samba's default, and a Windows DC with
"LDAP server signing requirements" set — refuses a Kerberos bind on plain LDAP without signing
or sealing, and Samba refuses it over LDAPS too. So this module performs the bind itself and,
when a layer is chosen, puts the connection's socket behind :class:`SealedSocket`: every LDAP
message leaves as a 4-byte length and a GSS-wrapped token and arrives the same way (RFC 4422
section 3.7), sealed (confidentiality) when the server offers it, else signed (integrity).

Which layer: on plain LDAP always sealing, never none. Over TLS none, and no integrity or
confidentiality asked of the context: Windows and Samba both refuse sign or seal inside TLS
("Sign or Seal are not allowed if TLS is used"). Samba with its default "ldap server require
strong auth = yes" refuses every SASL bind over TLS ("Sign or Seal are required"): such a DC
takes Kerberos only on plain LDAP, sealed — the transport says so.

The credential is the caller's (acquired in memory from a password, or the user's ticket
cache); mutual authentication is required, and over TLS the channel binding (RFC 5929
tls-server-end-point) ties the ticket to the DC's certificate.
"""

from __future__ import annotations

from typing import Any

NO_LAYER, INTEGRITY, CONFIDENTIALITY = 1, 2, 4
MAX_BUFFER = 0xFFFFFF  # what we accept per wrapped token (the largest a 3-byte field can say)


class LayerRefused(Exception):
    """The server refused the layer we chose (the bind may succeed again with another)."""


def bind(conn: Any, creds: Any, target: str, *, tls: bool, layer: int) -> dict[str, Any]:
    """Bind ``conn`` (an open ldap3 Connection, SASL/GSSAPI) with ``creds`` to ``ldap@target``;
    ``layer`` is the security layer to choose. Returns the final bind result (``result`` 0 on
    success). With a layer, ``conn.socket`` is wrapped for every later message."""
    import gssapi
    from ldap3.protocol.sasl.kerberos import get_channel_bindings
    from ldap3.protocol.sasl.sasl import abort_sasl_negotiation, send_sasl_negotiation

    name = gssapi.Name(f"ldap@{target}", gssapi.NameType.hostbased_service)
    flags = [
        gssapi.RequirementFlag.mutual_authentication,
        gssapi.RequirementFlag.out_of_sequence_detection,
    ]
    if layer != NO_LAYER:
        # A DC decides "signed" or "sealed" from the context's flags, not only from the layer
        # byte; inside TLS it refuses them, so they are asked for only when a layer is wanted.
        flags += [
            gssapi.RequirementFlag.integrity,
            gssapi.RequirementFlag.confidentiality,
            gssapi.RequirementFlag.replay_detection,
        ]
    bindings = get_channel_bindings(conn.socket) if tls else None  # type: ignore[no-untyped-call]
    ctx = gssapi.SecurityContext(
        name=name,
        mech=gssapi.MechType.kerberos,
        creds=creds,
        flags=flags,
        usage="initiate",
        channel_bindings=bindings,
    )
    token: bytes | None = None
    result: dict[str, Any] = {}
    conn.sasl_in_progress = True
    try:
        while True:
            out = ctx.step(token) or b""
            result = send_sasl_negotiation(conn, None, out)  # type: ignore[no-untyped-call]
            if result.get("result") != 14:  # saslBindInProgress; anything else ends the bind
                return result
            token = result.get("saslCreds")
            if ctx.complete:
                break
        # The server's offer (RFC 4752 3.1): a wrapped 4 octets, layers and its buffer size.
        if not token:
            raise LayerRefused("the server sent no security layer offer")
        offer = ctx.unwrap(token).message
        if len(offer) != 4:
            raise LayerRefused("the server's security layer offer is malformed")
        offered, server_max = offer[0], int.from_bytes(offer[1:4], "big")
        if not offered & layer:
            raise LayerRefused(f"the server does not offer security layer {layer}")
        choice = bytes([layer]) + MAX_BUFFER.to_bytes(3, "big")
        sent = ctx.wrap(choice, False).message
        result = send_sasl_negotiation(conn, None, sent)  # type: ignore[no-untyped-call]
    except Exception:
        abort_sasl_negotiation(conn, None)  # type: ignore[no-untyped-call]
        raise
    finally:
        conn.sasl_in_progress = False
    if result.get("result") == 0 and layer != NO_LAYER:
        conn.socket = SealedSocket(conn.socket, ctx, layer == CONFIDENTIALITY, server_max)
    return result


class SealedSocket:
    """A socket whose traffic is SASL-framed GSS tokens (RFC 4422 3.7); ldap3 sees plain LDAP."""

    def __init__(self, sock: Any, ctx: Any, seal: bool, server_max: int) -> None:
        self._sock = sock
        self._ctx = ctx
        self._seal = seal
        # Room for the token's own overhead (a Kerberos wrap token adds at most ~64 bytes).
        self._chunk = max(1024, (server_max or MAX_BUFFER) - 256)
        self._plain = b""

    def sendall(self, data: bytes) -> None:
        for i in range(0, len(data), self._chunk):
            wrapped = self._ctx.wrap(data[i : i + self._chunk], self._seal)
            if self._seal and not wrapped.encrypted:
                raise OSError("the Kerberos context cannot seal")
            token = wrapped.message
            self._sock.sendall(len(token).to_bytes(4, "big") + token)

    def recv(self, size: int) -> bytes:
        if not self._plain:
            head = self._exactly(4)
            if not head:
                return b""  # the server closed the connection
            length = int.from_bytes(head, "big")
            if length > MAX_BUFFER:
                raise OSError(f"a SASL buffer of {length} bytes is more than we accepted")
            body = self._exactly(length)
            if len(body) != length:
                raise OSError("the connection closed inside a SASL buffer")
            self._plain = self._ctx.unwrap(body).message
        out, self._plain = self._plain[:size], self._plain[size:]
        return bytes(out)

    def _exactly(self, n: int) -> bytes:
        got = b""
        while len(got) < n:
            part = self._sock.recv(n - len(got))
            if not part:
                break
            got += part
        return got

    def __getattr__(self, name: str) -> Any:
        # settimeout, shutdown, close, getpeercert, fileno…: the real socket's.
        return getattr(self._sock, name)


__all__ = ["CONFIDENTIALITY", "INTEGRITY", "NO_LAYER", "LayerRefused", "SealedSocket", "bind"]
