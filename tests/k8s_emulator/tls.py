"""TLS and credentials as a real cluster hands them out, for the emulator tests:

* ``make_certificates(directory)``: a CA and a server certificate signed by it
  (SAN 127.0.0.1, ::1, localhost and the in-cluster names), written as
  ``ca.crt``, ``server.crt``, ``server.key`` (PEM; the key 0600), with the
  ``cryptography`` package (ansible-core depends on it);
* ``write_service_account(directory, token, ca_path, namespace)``: the
  directory a pod sees at ``/var/run/secrets/kubernetes.io/serviceaccount``
  (``token``, ``ca.crt``, ``namespace``), for in-cluster configuration tests;
* ``server_context(certs)``: the ``ssl.SSLContext`` the server wraps its
  connections with (TLS 1.2+, as the API server).
"""

import datetime
import ipaddress
import os
import shutil
import ssl

IN_CLUSTER_NAMES = ('localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
                    'kubernetes.default.svc.cluster.local')


def _write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as fh:
        fh.write(data)
    os.chmod(path, mode)
    return path


def make_certificates(directory, common_name='kube-apiserver'):
    """{'ca', 'cert', 'key'}: paths of a fresh CA certificate, a server certificate and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    os.makedirs(str(directory), exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'quickbite-emulator-ca')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.DNSName(n) for n in IN_CLUSTER_NAMES] + [
        x509.IPAddress(ipaddress.ip_address(ip)) for ip in ('127.0.0.1', '::1')]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {'ca': os.path.join(str(directory), 'ca.crt'), 'cert': os.path.join(str(directory), 'server.crt'),
             'key': os.path.join(str(directory), 'server.key')}
    _write(paths['ca'], ca.public_bytes(pem))
    _write(paths['cert'], cert.public_bytes(pem))
    _write(paths['key'], key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
           0o600)
    return paths


def write_service_account(directory, token, ca_path, namespace='quickbite'):
    """Write ``token``, ``ca.crt`` and ``namespace`` as the kubelet projects them into a pod; the directory."""
    directory = str(directory)
    os.makedirs(directory, exist_ok=True)
    _write(os.path.join(directory, 'token'), token.encode(), 0o600)
    shutil.copyfile(str(ca_path), os.path.join(directory, 'ca.crt'))
    _write(os.path.join(directory, 'namespace'), namespace.encode())
    return directory


def server_context(certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certs['cert'], certs['key'])
    return ctx
