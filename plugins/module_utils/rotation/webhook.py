# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Payment webhook returning 400" check, automated: a test
event signed with the secret (HMAC-SHA256 of the raw body, Razorpay's
X-Razorpay-Signature) must be accepted, one with a wrong signature refused."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import hmac
import json
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http


def test_event():
    return json.dumps({'entity': 'event', 'event': 'quickbite.ops.webhook_probe', 'created_at': int(time.time()),
                       'payload': {'note': 'test event sent by quickbite.ops; not a payment'}},
                      separators=(',', ':')).encode('utf-8')


def post(url, body, signature, timeout=5, validate_certs=True):
    try:
        return _http.request(url, method='POST', data=body, timeout=timeout, validate_certs=validate_certs,
                             headers={'Content-Type': 'application/json', 'X-Razorpay-Signature': signature})[0]
    except _http.NO_ANSWER as exc:
        return _http.failure(exc)


def statuses(url, secret, validate_certs=True):
    """(status of a correctly signed event, status of a wrongly signed one):
    an int, or the words of a failure (no answer, a redirect)."""
    body = test_event()
    good = hmac.new(secret.encode('utf-8'), body, hashlib.sha256).hexdigest()
    bad = hmac.new(b'quickbite.ops-wrong-secret', body, hashlib.sha256).hexdigest()
    return post(url, body, good, validate_certs=validate_certs), post(url, body, bad, validate_certs=validate_certs)


def probe(url, secret, validate_certs=True):
    """[(check, ok, evidence)] for a correctly and a wrongly signed event."""
    signed, wrong = statuses(url, secret, validate_certs)
    return [
        ('signed test event accepted', isinstance(signed, int) and 200 <= signed < 300,
         'POST %s with a valid X-Razorpay-Signature answered %s (want 2xx)' % (url, signed)),
        ('wrongly signed event refused', wrong == 400,
         'POST %s with a wrong X-Razorpay-Signature answered %s (want 400)' % (url, wrong)),
    ]


def reserialized(body):
    """The same event with other whitespace and the keys in reverse order, as
    another JSON writer would send it: a backend that checks the signature
    over the raw body accepts it signed over these bytes; one that checks it
    over JSON it parsed and serialized again computes other bytes and refuses it."""
    def turned(value):
        if isinstance(value, dict):
            return dict((k, turned(value[k])) for k in reversed(list(value)))
        return value
    return json.dumps(turned(json.loads(body.decode('utf-8'))), indent=2).encode('utf-8')


def probe_reserialized(url, secret, validate_certs=True):
    """(ok, status, evidence) of the re-serialized event signed over its own bytes."""
    body = reserialized(test_event())
    signature = hmac.new(secret.encode('utf-8'), body, hashlib.sha256).hexdigest()
    status = post(url, body, signature, validate_certs=validate_certs)
    return (isinstance(status, int) and 200 <= status < 300, status,
            'POST %s with the event re-serialized (indented, keys reversed) and signed over those bytes answered %s '
            '(want 2xx)' % (url, status))


def probe_until(url, secret, timeout, validate_certs=True, interval=1.0):
    """Replicas may answer differently for a moment after a restart."""
    deadline = time.time() + timeout
    while True:
        checks = probe(url, secret, validate_certs)
        if all(c[1] for c in checks) or time.time() >= deadline:
            return checks
        time.sleep(interval)
