# -*- coding: utf-8 -*-
"""The latency probe ends within its budget (plus a short grace): a request that
a slow backend would answer after that is cut off and is not counted as a failure.
Against a real HTTP server on 127.0.0.1 that answers every request late."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.incident import probes


@pytest.fixture
def slow_backend():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            time.sleep(0.35)
            self.send_response(200)
            self.send_header('Content-Length', '2')
            self.end_headers()
            self.wfile.write(b'{}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()


def _settings(url):
    health = SimpleNamespace(backend_url=url, request_timeout=5, validate_certs=False)
    return SimpleNamespace(health=health, latency_path='/actuator/health', latency_requests=50)


def test_the_probe_ends_within_its_budget_and_a_cut_request_is_no_failure(slow_backend, monkeypatch):
    monkeypatch.setattr(probes, 'LATENCY_BUDGET', 1.5)
    monkeypatch.setattr(probes, 'LATENCY_GRACE', 0.05)
    started = time.monotonic()
    ok, summary, data = probes._latency(_settings(slow_backend))  # pylint: disable=protected-access
    took = time.monotonic() - started
    assert took <= 1.5 + 0.05 + 0.5, took  # the budget, the grace, and slack for a busy machine
    assert ok and data['failures'] == 0 and 1 <= data['requests'] < 50, data
    assert 'stopped after %d of 50 requests' % data['requests'] in summary
