import base64
import hashlib
import hmac

from ansible_collections.quickbite.ops.plugins.module_utils.rotation import dbpassword


def test_scram_verifier_format_and_keys():
    salt = b'0123456789abcdef'
    verifier = dbpassword.scram_verifier('pencil', salt=salt)
    method, rest = verifier.split('$', 1)
    params, keys = rest.split('$')
    iterations, b64salt = params.split(':')
    stored, server = [base64.b64decode(k) for k in keys.split(':')]
    assert method == 'SCRAM-SHA-256' and iterations == '4096' and base64.b64decode(b64salt) == salt
    salted = hashlib.pbkdf2_hmac('sha256', b'pencil', salt, 4096)
    assert stored == hashlib.sha256(hmac.new(salted, b'Client Key', hashlib.sha256).digest()).digest()
    assert server == hmac.new(salted, b'Server Key', hashlib.sha256).digest()
    assert 'pencil' not in verifier


def test_new_password_is_strong_and_needs_no_quoting():
    passwords = set(dbpassword.new_password() for dummy in range(20))
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) >= 43 and all(c.isalnum() or c in '-_' for c in password)
