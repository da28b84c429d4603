"""Pod exec (``GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec``) over a
WebSocket, as the API server speaks it to the ``kubernetes`` client and to
kubectl: the RFC 6455 upgrade and framing, the subprotocols
``v5.channel.k8s.io`` and ``v4.channel.k8s.io`` (binary messages prefixed by
their channel: 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize; v5's
``[255, channel]`` closes one, which for stdin is the command's end of input),
the status on channel 3 as the kubelet writes it (``Success``, or
``Failure``/``NonZeroExitCode`` with the exit code as the ``ExitCode`` cause,
or ``InternalError`` when the command cannot start), then a close frame.

The command runs for real: the Emulator's ``exec_backends`` maps a pod (by
name, Deployment or ``app`` label) to an argv prefix run on this host, the
request's command appended. For the postgres pod the tests use ``docker
compose ... exec -T --user postgres postgres``, so pg_dump, pg_restore and
psql run in the reference stack's PostgreSQL container. Like the kubelet, a
dropped connection closes the command's stdio; the backing process is then
killed."""

import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlsplit

from .core import ApiError

GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE_SIGNAL = 0, 1, 2, 3, 4, 255
V5 = 'v5.channel.k8s.io'
READ_SIZE = 1 << 15      # bytes of stdout/stderr per message (the kubelet copies 32 KiB at a time)
MAX_MESSAGE = 1 << 24    # refuse bigger client messages: memory stays bounded
CLOSE_WAIT = 5.0         # seconds a client gets to answer our close frame


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode('ascii') + GUID).digest()).decode('ascii')


def encode_frame(opcode, payload, mask=None):
    """One final frame; ``mask`` (4 bytes) as a client sends it, None as a server does."""
    head = bytes([0x80 | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head += bytes([bit | length])
    elif length < 1 << 16:
        head += bytes([bit | 126]) + struct.pack('!H', length)
    else:
        head += bytes([bit | 127]) + struct.pack('!Q', length)
    if mask:
        return head + mask + _unmask(mask, payload)
    return head + bytes(payload)


def _unmask(mask, data):
    if not data:
        return b''
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], 'big')
    return (int.from_bytes(data, 'big') ^ key).to_bytes(n, 'big')


def _read_exact(rfile, n):
    data = rfile.read(n)
    if data is None or len(data) < n:
        raise EOFError('connection closed')
    return data


def read_frame(rfile):
    """(fin, opcode, payload) of one client frame (masked, as RFC 6455 requires)."""
    b1, b2 = _read_exact(rfile, 2)
    fin, opcode, masked, length = b1 & 0x80, b1 & 0x0F, b2 & 0x80, b2 & 0x7F
    if length == 126:
        length = struct.unpack('!H', _read_exact(rfile, 2))[0]
    elif length == 127:
        length = struct.unpack('!Q', _read_exact(rfile, 8))[0]
    if length > MAX_MESSAGE:
        raise ValueError('message of %d bytes is too big' % length)
    if not masked:
        raise ValueError('client frames must be masked')
    mask = _read_exact(rfile, 4)
    return bool(fin), opcode, _unmask(mask, _read_exact(rfile, length))


def read_message(rfile, on_control):
    """(opcode, payload) of the next data message, joining continuation
    frames; control frames in between go to ``on_control(opcode, payload)``."""
    parts, first = [], None
    while True:
        fin, opcode, payload = read_frame(rfile)
        if opcode >= 0x8:
            if on_control(opcode, payload):
                return CLOSE, payload
            continue
        if opcode != CONT:
            first, parts = opcode, []
        parts.append(payload)
        if sum(len(p) for p in parts) > MAX_MESSAGE:
            raise ValueError('message too big')
        if fin:
            return first, b''.join(parts)


def kubelet_status(returncode, argv, error=None):
    """The metav1.Status the kubelet writes on channel 3 (v4 and v5)."""
    if error is not None:
        message = 'error executing command in container: %s' % error
        return {'metadata': {}, 'status': 'Failure', 'message': 'Internal error occurred: ' + message,
                'reason': 'InternalError', 'details': {'causes': [{'message': message}]}, 'code': 500}
    if returncode == 0:
        return {'metadata': {}, 'status': 'Success'}
    return {'metadata': {}, 'status': 'Failure',
            'message': 'command terminated with non-zero exit code: error executing command %s, exit code %d'
                       % ('[%s]' % ' '.join(argv), returncode),
            'reason': 'NonZeroExitCode',
            'details': {'causes': [{'reason': 'ExitCode', 'message': str(returncode)}]}}


def _flag(query, name):
    return (query.get(name) or ['false'])[-1].lower() in ('1', 'true')


class ExecSession(object):
    """One upgraded connection and the command behind it."""

    def __init__(self, handler, argv, protocol, stdin, stdout, stderr):
        self.handler = handler
        self.argv = argv
        self.protocol = protocol
        self.want = dict(stdin=stdin, stdout=stdout, stderr=stderr)
        self.proc = None
        self.lock = threading.Lock()
        self.close_sent = False
        self.peer_closed = threading.Event()

    # ------------------------------------------------------------- sending

    def send(self, opcode, payload):
        with self.lock:
            if self.close_sent:
                return
            if opcode == CLOSE:
                self.close_sent = True
            self.handler.wfile.write(encode_frame(opcode, payload))

    def send_channel(self, channel, data):
        self.send(BINARY, bytes([channel]) + data)

    # ------------------------------------------------------------- the command

    def start(self, backend):
        """Start the command; None, or the reason it could not start."""
        if backend is None:
            return 'k8s emulator: no exec backend for this pod (EmulatorThread(exec_backends={target: argv}))'
        try:
            self.proc = subprocess.Popen(
                list(backend) + self.argv, bufsize=0, close_fds=True, start_new_session=True,
                stdin=subprocess.PIPE if self.want['stdin'] else subprocess.DEVNULL,
                stdout=subprocess.PIPE if self.want['stdout'] else subprocess.DEVNULL,
                stderr=subprocess.PIPE if self.want['stderr'] else subprocess.DEVNULL)
        except OSError as exc:
            return 'failed to exec in container: exec: "%s": %s' % (self.argv[0], exc.strerror)
        return None

    def _pump(self, stream, channel):
        try:
            while True:
                data = os.read(stream.fileno(), READ_SIZE)
                if not data:
                    break
                self.send_channel(channel, data)
        except OSError:
            pass  # the client is gone: run() kills the command
        finally:
            stream.close()

    def _finish(self, pumps, error):
        for pump in pumps:
            pump.join()
        code = None
        if self.proc is not None:
            code = self.proc.wait()
            code = 128 - code if code < 0 else code  # killed by a signal: as a container runtime reports it
        try:
            self.send_channel(STATUS, json.dumps(kubelet_status(code, self.argv, error)).encode())
            self.send(CLOSE, struct.pack('!H', 1000))
        except OSError:
            return
        if not self.peer_closed.wait(CLOSE_WAIT):
            self._drop()

    def _drop(self):
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass

    # ------------------------------------------------------------- the connection

    def run(self, backend):
        error = self.start(backend)
        # As the kubelet: an empty message on the lowest writable channel says the streams are ready.
        self.send_channel(STDOUT if self.want['stdout'] else STDERR if self.want['stderr'] else STATUS, b'')
        pumps = []
        if self.proc is not None:
            for stream, channel in ((self.proc.stdout, STDOUT), (self.proc.stderr, STDERR)):
                if stream is not None:
                    pumps.append(threading.Thread(target=self._pump, args=(stream, channel), daemon=True))
        for pump in pumps:
            pump.start()
        finisher = threading.Thread(target=self._finish, args=(pumps, error), daemon=True)
        finisher.start()
        try:
            self._receive()
        finally:
            self.peer_closed.set()
            self.kill()  # the connection is gone: a command still running loses its stdio, as in a pod
            if self.proc is not None and self.proc.stdin is not None:
                self._close_stdin()
            finisher.join(CLOSE_WAIT + 5)

    def _close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def _on_control(self, opcode, payload):
        if opcode == PING:
            self.send(PONG, payload)
        elif opcode == CLOSE:
            self.send(CLOSE, payload[:2])
            return True
        return False

    def _receive(self):
        rfile = self.handler.rfile
        stdin = self.proc.stdin if self.proc is not None else None
        while True:
            try:
                opcode, data = read_message(rfile, self._on_control)
            except (EOFError, OSError, ValueError):
                return
            if opcode == CLOSE:
                return
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == CLOSE_SIGNAL and self.protocol == V5:
                if payload[:1] == bytes([STDIN]) and stdin is not None:
                    self._close_stdin()
                    stdin = None
            elif channel == STDIN and stdin is not None and payload:
                try:
                    view = memoryview(payload)
                    while view:
                        view = view[stdin.write(view):]
                except OSError:  # the command stopped reading: drop the rest, as the kubelet does
                    stdin = None
            # RESIZE needs a terminal (tty is refused); other channels are ignored, as upstream.


def serve(handler, emulator, namespace, name):
    """Handle one exec request on ``handler`` (a BaseHTTPRequestHandler);
    raises ApiError for refusals sent before the upgrade."""
    query = parse_qs(urlsplit(handler.path).query, keep_blank_values=True)
    argv = query.get('command') or []
    if not argv:
        raise ApiError(400, 'BadRequest', 'you must specify at least 1 command')
    want = dict((k, _flag(query, k)) for k in ('stdin', 'stdout', 'stderr'))
    if not any(want.values()):
        raise ApiError(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr')
    if _flag(query, 'tty'):
        raise ApiError(400, 'BadRequest', 'k8s emulator: exec with a tty is not emulated')
    container, backend = emulator.exec_backend(namespace, name, (query.get('container') or [None])[-1])
    if handler.headers.get('Upgrade', '').lower() != 'websocket' or not handler.headers.get('Sec-WebSocket-Key'):
        raise ApiError(400, 'BadRequest', 'Upgrade request required')
    offered = [p.strip() for p in handler.headers.get('Sec-WebSocket-Protocol', '').split(',') if p.strip()]
    protocol = next((p for p in offered if p in emulator.exec_protocols), None)
    if protocol is None:
        raise ApiError(400, 'BadRequest', 'unable to upgrade: none of the requested subprotocols %s is supported '
                       '(%s)' % (offered, ', '.join(emulator.exec_protocols)))
    handler.send_response(101, 'Switching Protocols')
    handler.send_header('Upgrade', 'websocket')
    handler.send_header('Connection', 'Upgrade')
    handler.send_header('Sec-WebSocket-Accept', accept_key(handler.headers['Sec-WebSocket-Key']))
    handler.send_header('Sec-WebSocket-Protocol', protocol)
    handler.end_headers()
    handler.close_connection = True
    emulator.exec_log.append((name, container, list(argv), protocol))
    session = ExecSession(handler, argv, protocol, **want)
    sessions = getattr(handler.server, 'exec_sessions', None)
    if sessions is not None:
        sessions.add(session)
    if os.environ.get('K8S_EMULATOR_DEBUG'):
        sys.stderr.write('k8s-emulator: exec in %s/%s (%s, %s): %s\n' % (namespace, name, container, protocol, argv))
    try:
        session.run(backend)
    except OSError:
        session.kill()
    finally:
        if sessions is not None:
            sessions.discard(session)
