# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JWT secret rotation: how the backend is asked whether a secret is in
force (HS256 tokens signed with it, sent to a protected endpoint)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import hmac
import json
import secrets
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http


def new_secret():
    """256 bits as 64 hex characters, as ``openssl rand -hex 32``."""
    return secrets.token_hex(32)


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def mint(secret, subject='quickbite-ops-rotation-probe', ttl=300):
    now = int(time.time())
    head = _b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())
    body = _b64(json.dumps({'sub': subject, 'iat': now, 'exp': now + ttl}).encode())
    signature = hmac.new(secret.encode('utf-8'), ('%s.%s' % (head, body)).encode('ascii'), hashlib.sha256).digest()
    return '%s.%s.%s' % (head, body, _b64(signature))


def probe(url, secret, timeout=5, validate_certs=True):
    """HTTP status of the protected endpoint for a token signed with ``secret``."""
    try:
        return _http.request(url, headers={'Authorization': 'Bearer ' + mint(secret)}, timeout=timeout,
                             validate_certs=validate_certs)[0]
    except _http.NO_ANSWER as exc:
        return _http.failure(exc)


def token_checks(url, old, new, keep_previous, validate_certs=True, attempts=10, interval=1.0):
    """[(check, ok, evidence)] of a rotation from ``old`` to ``new``."""
    wanted = []
    if new is not None:
        wanted.append(('new token accepted', new, 200))
        wanted.append(('old token %s' % ('still accepted (JWT_SECRET_PREVIOUS)' if keep_previous else 'refused'),
                       old, 200 if keep_previous else 401))
    else:
        wanted.append(('token accepted', old, 200))
    return expect_tokens(url, wanted, validate_certs, attempts, interval)


def grace_end_checks(url, current, previous, validate_certs=True, attempts=10, interval=1.0):
    """[(check, ok, evidence)] once JWT_SECRET_PREVIOUS is dropped."""
    return expect_tokens(url, [('token of JWT_SECRET accepted', current, 200),
                               ('token of the dropped JWT_SECRET_PREVIOUS refused', previous, 401)],
                         validate_certs, attempts, interval)


def expect_tokens(url, wanted, validate_certs=True, attempts=10, interval=1.0):
    """wanted: [(check, secret, status)] -> [(check, ok, evidence)]. With several
    replicas a request may reach any of them, so each probe is repeated and
    every answer must agree."""
    results = []
    for name, secret, expect in wanted:
        answers = [probe(url, secret, validate_certs=validate_certs) for dummy in range(3)]
        deadline = time.time() + attempts * interval
        while any(a != expect for a in answers) and time.time() < deadline:
            time.sleep(interval)
            answers = [probe(url, secret, validate_certs=validate_certs) for dummy in range(3)]
        ok = all(a == expect for a in answers)
        results.append((name, ok, 'GET %s answered %s (want %s)' % (url, ', '.join(map(str, answers)), expect)))
    return results
