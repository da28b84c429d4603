"""Probes never follow a redirect (issue 10, item 8): a 302 to another
origin (here another 127.0.0.1 port) carries neither the bearer tokens of the
rotation probe nor the webhook signature there, and counts as a failed check
whose evidence names the status and the Location. Real sockets both sides."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.health import checks
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import jwt, webhook


def _server(handler):
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True).start()
    return server


@pytest.fixture
def origins():
    """(redirecting URL, Location it names, requests the other origin received)."""
    received = []

    class Recorder(BaseHTTPRequestHandler):
        def _any(self):
            length = int(self.headers.get('Content-Length') or 0)
            received.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.end_headers()
            self.wfile.write(b'{"status": "UP"}')
        do_GET = do_POST = _any

        def log_message(self, *args):
            pass

    other = _server(Recorder)
    location = 'http://127.0.0.1:%d/collect' % other.server_address[1]

    class Redirector(BaseHTTPRequestHandler):
        def _any(self):
            self.send_response(302)
            self.send_header('Location', location)
            self.send_header('Content-Length', '0')
            self.end_headers()
        do_GET = do_POST = _any

        def log_message(self, *args):
            pass

    first = _server(Redirector)
    _http._openers.clear()
    yield 'http://127.0.0.1:%d' % first.server_address[1], location, received
    first.shutdown()
    other.shutdown()
    _http._openers.clear()


def test_client_raises_with_status_and_location(origins):
    url, location, received = origins
    with pytest.raises(_http.Redirected) as info:
        _http.request(url + '/api/orders', headers={'Authorization': 'Bearer secret-token'})
    assert (info.value.status, info.value.location) == (302, location)
    assert received == []


def test_health_checks_fail_naming_the_location(origins):
    url, location, received = origins
    result = checks.actuator(url, timeout=5)
    assert result['status'] == 'DOWN'
    assert 'HTTP 302 redirect to %s, not followed' % location in result['evidence']
    result = checks.frontend(url, '/some/deep/route', timeout=5)
    assert result['status'] == 'DOWN' and result['evidence'].count(location) == 2
    assert received == []


def test_jwt_probe_sends_no_token_to_the_redirect_target(origins):
    url, location, received = origins
    found = jwt.token_checks(url + '/api/orders', 'old-secret', 'new-secret', keep_previous=True,
                             attempts=0, interval=0)
    assert [ok for dummy, ok, dummy2 in found] == [False, False]
    assert all('HTTP 302 redirect to %s' % location in evidence for dummy, dummy2, evidence in found)
    assert received == []


def test_webhook_probe_sends_no_signature_to_the_redirect_target(origins):
    url, location, received = origins
    found = webhook.probe(url + '/api/payments/webhook', 'webhook-secret')
    assert [ok for dummy, ok, dummy2 in found] == [False, False]
    assert 'HTTP 302 redirect to %s' % location in found[0][2]
    assert received == []
