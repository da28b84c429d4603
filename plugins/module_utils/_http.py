# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few HTTP requests the procedures make (actuator, frontend, signed
probes), on the standard library's urllib: proxies from the environment and
certificate checks as ``open_url`` does them, for less.

Redirects are never followed: a probe carries bearer tokens signed with the
JWT secrets and webhook signatures, which must not travel to whatever origin
a ``Location`` names, and a redirect target's answer is not the probed
endpoint's. A 3xx raises Redirected (one of NO_ANSWER) with its status and
``Location``, so every check fails on it with that evidence.

``ansible.module_utils.urls`` costs 60 to 120 ms to import (it pulls in
``cryptography``), and ``open_url`` loads the system CA store into a new TLS
context on every call, plain HTTP included (about 70 ms each, holding the GIL,
so checks running side by side wait for each other). Here one opener per
``validate_certs`` value is built once per run, and its TLS context on the
first HTTPS request only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import ssl
import threading
import urllib.error
import urllib.request

USER_AGENT = 'quickbite.ops'


class Redirected(http.client.HTTPException):
    """A 3xx answer, not followed."""

    def __init__(self, url, status, location):
        http.client.HTTPException.__init__(self, url, status, location)
        self.url = url
        self.status = status
        self.location = location
        self.reason = ('HTTP %d redirect to %s, not followed (probes never follow redirects: set the URL '
                       'to the endpoint itself)' % (status, location or '(no Location header)'))

    def __str__(self):
        return self.reason


# Errors that mean the endpoint did not answer as itself: nothing answered, or
# it redirected elsewhere (HTTPError, an answer, is caught first).
NO_ANSWER = (urllib.error.URLError, http.client.HTTPException, OSError)

_lock = threading.Lock()
_openers = {}


class _HTTPSHandler(urllib.request.HTTPSHandler):
    """HTTPS with one TLS context built on first use, not at construction."""

    def __init__(self, validate_certs):
        # Not HTTPSHandler.__init__: from Python 3.12 it builds a context right away.
        urllib.request.AbstractHTTPHandler.__init__(self)  # pylint: disable=non-parent-init-called
        self._validate_certs = validate_certs
        self._tls = None

    def _context(self):
        with _lock:
            if self._tls is None:
                context = ssl.create_default_context()
                if not self._validate_certs:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._tls = context
        return self._tls

    def https_open(self, req):
        return self.do_open(http.client.HTTPSConnection, req, context=self._context())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Replaces urllib's redirect handler: a 3xx stays an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener(validate_certs):
    with _lock:
        if validate_certs not in _openers:
            _openers[validate_certs] = urllib.request.build_opener(_HTTPSHandler(validate_certs), _NoRedirect())
        return _openers[validate_certs]


def request(url, method='GET', data=None, headers=None, timeout=5, validate_certs=True):
    """(HTTP status, body) for any HTTP answer, error statuses included;
    raises one of NO_ANSWER when nothing answered, Redirected on a 3xx."""
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header('User-Agent', USER_AGENT)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with _opener(validate_certs).open(req, timeout=timeout) as response:
            return response.getcode(), response.read()
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise Redirected(url, exc.code, exc.headers.get('Location') if exc.headers else None)
        try:
            body = exc.read()
        except Exception:  # the status is the answer; a body is a bonus
            body = b''
        return exc.code, body


def fetch(url, timeout=5, validate_certs=True):
    """(HTTP status, {header name in lower case: value}, body) of a GET, as
    request() answers it, for a check that judges the headers too
    (Content-Type of a page's scripts and stylesheets)."""
    req = urllib.request.Request(url, method='GET')
    req.add_header('User-Agent', USER_AGENT)
    try:
        with _opener(validate_certs).open(req, timeout=timeout) as response:
            return response.getcode(), dict((k.lower(), v) for k, v in response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise Redirected(url, exc.code, exc.headers.get('Location') if exc.headers else None)
        headers = dict((k.lower(), v) for k, v in exc.headers.items()) if exc.headers else {}
        try:
            body = exc.read()
        except Exception:  # the status is the answer; a body is a bonus
            body = b''
        return exc.code, headers, body


def reason(exc):
    """What went wrong, for an evidence line."""
    return getattr(exc, 'reason', None) or exc


def failure(exc):
    """Evidence for one of NO_ANSWER: the redirect with its status and
    Location, or that nothing answered and why."""
    if isinstance(exc, Redirected):
        return exc.reason
    return 'no answer (%s)' % reason(exc)
