"""Real HTTP receivers on 127.0.0.1 for the notification tests: one that
fails a given number of times then accepts, one that accepts the connection
and never answers. Stopped by the test that started them."""
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(object):
    """Answers 500 to the first ``failures`` POSTs, then 200; keeps every body."""

    def __init__(self, failures=0):
        self.failures = failures
        self.bodies = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                data = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                receiver.attempts += 1
                ok = receiver.attempts > receiver.failures
                if ok:
                    receiver.bodies.append(json.loads(data))
                self.send_response(200 if ok else 500)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'ok')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d/hook' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Hanging(object):
    """Accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.url = 'http://127.0.0.1:%d/hook' % self.sock.getsockname()[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()
