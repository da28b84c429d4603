import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _http


class _Handler(BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get('Authorization'), self.headers.get('User-Agent')))
        if self.path == '/old':
            self.send_response(302)
            self.send_header('Location', '/new')
            self.end_headers()
            return
        code = 200 if self.path in ('/', '/new') else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(('%d at %s' % (code, self.path)).encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.send_response(400 if body != b'good' else 200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(autouse=True)
def fresh_openers():
    _http._openers.clear()
    yield
    _http._openers.clear()


@pytest.fixture
def http():
    server = _serve(ThreadingHTTPServer(('127.0.0.1', 0), _Handler))
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    del _Handler.seen[:]


def _https_handler(validate_certs):
    return [h for h in _http._opener(validate_certs).handlers if isinstance(h, _http._HTTPSHandler)][0]


def test_answers_with_status_and_body_error_statuses_included(http):
    assert _http.request(http + '/') == (200, b'200 at /')
    assert _http.request(http + '/missing') == (404, b'404 at /missing')
    assert _http.request(http + '/', method='POST', data=b'good') == (200, b'good')
    assert _http.request(http + '/', method='POST', data=b'bad')[0] == 400


def test_sends_headers_and_never_follows_a_redirect(http):
    with pytest.raises(_http.Redirected) as info:
        _http.request(http + '/old', headers={'Authorization': 'Bearer x'})
    assert (info.value.status, info.value.location) == (302, '/new')
    assert isinstance(info.value, _http.NO_ANSWER)
    assert _http.failure(info.value).startswith('HTTP 302 redirect to /new, not followed')
    assert [s[0] for s in _Handler.seen] == ['/old']
    assert _Handler.seen[0][1:] == ('Bearer x', 'quickbite.ops')


def test_plain_http_builds_no_tls_context(http):
    _http.request(http + '/', validate_certs=True)
    handler = _https_handler(True)
    assert handler._tls is None, 'loading the CA store costs ~70 ms; plain HTTP must not pay it'
    assert _http._opener(True) is _http._opener(True)


def test_nothing_listening_raises_no_answer():
    with pytest.raises(_http.NO_ANSWER) as info:
        _http.request('http://127.0.0.1:9/', timeout=2)
    assert 'refused' in str(_http.reason(info.value)).lower()


@pytest.mark.skipif(not shutil.which('openssl'), reason='openssl CLI needed for a self-signed certificate')
def test_https_checks_certificates_unless_told_not_to(tmp_path):
    cert, key = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '1', '-subj', '/CN=127.0.0.1'], check=True, capture_output=True)
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _serve(server)
    url = 'https://127.0.0.1:%d/' % server.server_address[1]
    try:
        with pytest.raises(_http.NO_ANSWER) as info:
            _http.request(url, timeout=5, validate_certs=True)
        assert 'CERTIFICATE_VERIFY_FAILED' in str(_http.reason(info.value))
        assert _http.request(url, timeout=5, validate_certs=False) == (200, b'200 at /')
        assert _https_handler(False)._tls.verify_mode == ssl.CERT_NONE
        assert _https_handler(True)._tls.verify_mode == ssl.CERT_REQUIRED
    finally:
        server.shutdown()
