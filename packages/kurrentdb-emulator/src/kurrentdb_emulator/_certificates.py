"""A throw-away self-signed certificate, for serving (and testing) TLS without a CA at hand."""

from __future__ import annotations

import datetime
import ipaddress

from kurrentdb_emulator._server import TlsCertificate


def self_signed_certificate(
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), *, days: int = 1
) -> TlsCertificate:
    """A new self-signed certificate for ``hosts``; it is its own CA, so clients trust it directly.

    Pass its ``certificate_chain`` to the client as ``root_certificates``.

    Args:
        hosts: IP addresses and DNS names the certificate is valid for.
        days: How long it is valid.

    Raises:
        ImportError: The ``cryptography`` package is missing
            (``uv add --dev cryptography`` or ``pip install 'kurrentdb-emulator[tls]'``).
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "self_signed_certificate() needs the cryptography package: "
            "pip install 'kurrentdb-emulator[tls]'"
        ) from exc

    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kurrentdb-emulator")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A little slack for clocks that disagree by a few minutes.
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return TlsCertificate(
        certificate_chain=certificate.public_bytes(serialization.Encoding.PEM),
        private_key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
