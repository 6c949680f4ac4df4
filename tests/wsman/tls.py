"""A self-signed certificate per HTTPS test server, like ``New-SelfSignedCertificate`` gives a listener.

The certificate names the server's loopback address (IP SAN) and ``localhost``, so a client that
trusts ``cert_path`` (``ca_trust_path`` / ``ansible_winrm_ca_trust_path``) validates it, and one that
trusts only the system store gets ``requests.exceptions.SSLError``. The channel-binding hash is
RFC 5929 ``tls-server-end-point``: the certificate's signature hash (SHA-256 here) of its DER.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class ServerCertificate:
    directory: str
    cert_path: str
    key_path: str
    der: bytes

    @property
    def end_point_hash(self) -> bytes:
        """``tls-server-end-point`` hash (SHA-256: the certificate is signed with ECDSA-SHA256)."""
        digest = hashes.Hash(hashes.SHA256())
        digest.update(self.der)
        return digest.finalize()

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def self_signed(address: str, common_name: str) -> ServerCertificate:
    """A fresh EC P-256 key and certificate for ``address``, written to a new temp directory."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(common_name)]
    try:
        alt_names.insert(0, x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        alt_names.insert(0, x509.DNSName(address))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tempfile.mkdtemp(prefix="e8scan-wsman-tls-")
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    os.chmod(key_path, 0o600)
    return ServerCertificate(
        directory, cert_path, key_path, cert.public_bytes(serialization.Encoding.DER)
    )
