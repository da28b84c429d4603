"""The demo backend's /actuator/prometheus (Micrometer's text format, fed by
the requests it serves) and the switches the monitoring tests flip
(/actuator/faults), on the backend's own HTTP server in this process: no
database, no Docker."""
import hashlib
import hmac
import importlib.util
import json
import socket
import threading
import time
import types
import urllib.error
import urllib.request
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[3] / 'stack' / 'backend' / 'app.py'
SECRET = 'whsec-test-0123456789'


@pytest.fixture
def backend(monkeypatch):
    spec = importlib.util.spec_from_file_location('quickbite_backend_app', str(APP))
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    app.CFG = types.SimpleNamespace(webhook_secret=SECRET, server_port=0, jwt_secret='x' * 32,
                                    jwt_secret_previous='')
    monkeypatch.setattr(app, 'log', lambda *args, **kwargs: None)
    server = app.NamedServer(('127.0.0.1', 0), app.Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield app, 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def _call(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method='POST' if data is not None else 'GET')
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _metrics(base):
    status, text = _call(base + '/actuator/prometheus')
    assert status == 200
    found = {}
    for line in text.splitlines():
        if line and not line.startswith('#'):
            name, value = line.rsplit(' ', 1)
            found[name] = float(value)
    return text, found


def _webhook(base, event, good=True):
    body = json.dumps({'event': event}).encode()
    sig = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() if good else 'bad'
    headers = {'X-Razorpay-Signature': sig, 'Content-Type': 'application/json'}
    return _call(base + '/api/payments/webhook', body, headers)[0]


def test_requests_feed_the_histogram_and_counters(backend):
    _app, base = backend
    assert _call(base + '/api/orders')[0] == 401
    assert _webhook(base, 'payment.captured') == 200
    assert _webhook(base, 'payment.failed') == 200
    assert _webhook(base, 'payment.captured', good=False) == 400
    text, found = _metrics(base)
    assert '# TYPE http_server_requests_seconds histogram' in text
    orders = 'method="GET",uri="/api/orders",status="401",outcome="CLIENT_ERROR",exception="None"'
    assert found['http_server_requests_seconds_count{%s}' % orders] == 1
    assert found['http_server_requests_seconds_bucket{%s,le="+Inf"}' % orders] == 1
    assert found['quickbite_payments_total{outcome="success"}'] == 1
    assert found['quickbite_payments_total{outcome="failure"}'] == 1
    assert found['quickbite_payment_webhooks_total{outcome="accepted"}'] == 2
    assert found['quickbite_payment_webhooks_total{outcome="rejected"}'] == 1
    assert found['quickbite_websocket_sessions_active'] == 0


def test_switches_slow_fail_and_error(backend):
    _app, base = backend
    switches = {'delay_ms': 300, 'fail_payments': True, 'webhook_errors': False}
    status, body = _call(base + '/actuator/faults', json.dumps(switches).encode())
    assert status == 200 and json.loads(body)['delay_ms'] == 300
    started = time.monotonic()
    _call(base + '/api/orders')
    assert time.monotonic() - started >= 0.3
    assert _webhook(base, 'payment.captured') == 200
    _call(base + '/actuator/faults', json.dumps({'delay_ms': 0, 'webhook_errors': True}).encode())
    assert _webhook(base, 'payment.captured') == 500
    _text, found = _metrics(base)
    slow = 'method="GET",uri="/api/orders",status="401",outcome="CLIENT_ERROR",exception="None"'
    assert found['http_server_requests_seconds_bucket{%s,le="0.25"}' % slow] == 0
    assert found['http_server_requests_seconds_bucket{%s,le="0.5"}' % slow] == 1
    assert found['quickbite_payments_total{outcome="failure"}'] == 1
    assert found['quickbite_payment_webhooks_total{outcome="error"}'] == 1


def test_unknown_switch_refused(backend):
    _app, base = backend
    status, body = _call(base + '/actuator/faults', b'{"explode": true}')
    assert status == 400 and 'unknown switch' in body


def _ws_open(base):
    host, port = base[len('http://'):].split(':')
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(('GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' % host).encode())
    assert b'101' in sock.recv(1024).split(b'\r\n')[0]
    return sock


def _sessions(base):
    return _metrics(base)[1]['quickbite_websocket_sessions_active']


def _wait(condition, timeout=5):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'condition not met in %s s' % timeout
        time.sleep(0.02)


def test_websocket_sessions_gauge_and_drop_switch(backend):
    _app, base = backend
    socks = [_ws_open(base) for _index in range(3)]
    _wait(lambda: _sessions(base) == 3)
    _call(base + '/actuator/faults', b'{"drop_websockets": true}')
    for sock in socks:
        sock.settimeout(5)
        assert sock.recv(1024) == b''  # closed by the backend
        sock.close()
    _wait(lambda: _sessions(base) == 0)
    status, _body = _call(base + '/ws')
    assert status in (400, 503)


def test_alloc_switch_leaks_resident_memory_after_answering(backend):
    app, base = backend
    status, body = _call(base + '/actuator/faults', b'{"alloc_mb": 3}')
    assert status == 200 and json.loads(body)['alloc_mb'] == 3  # answered before the leak starts
    _wait(lambda: len(app._leaked) == 3)  # pylint: disable=protected-access
    assert all(len(block) == 1 << 20 and block[:1] == b'\x01' for block in app._leaked)  # pylint: disable=protected-access
