# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A command in a pod through the API server's ``exec`` subresource (what
``kubectl exec -i`` does), behind subprocess.Popen's interface, so a database
pipeline runs a stage in the pod the way it runs one on this host.

The kubernetes client opens the WebSocket (``ws_client.websocket_call``, what
``kubernetes.stream.stream`` calls, with ``_preload_content=False`` and
``binary=True``): authentication, TLS, proxies and the subprotocol stay its
business. The frames are then read and written
here one at a time, not through ``WSClient.update()``/``read_stdout()``: those
keep a copy of everything received on stdout and stderr (``capture_all``,
which ``stream()`` cannot turn off) and join frames in memory, and a dump can
be gigabytes. Here each frame goes straight to a pipe or file; a full pipe
stops the reading, and TCP stops the pod's side: memory stays flat.

The channel protocols (``v5.channel.k8s.io`` preferred, ``v4.channel.k8s.io``)
prefix every binary message with its channel: 0 stdin, 1 stdout, 2 stderr,
3 status, 4 terminal size. The status is a metav1.Status in JSON, sent once
the command has ended: ``Success``, or ``Failure`` with reason
``NonZeroExitCode`` and the code as the ``ExitCode`` cause. v5 adds channel
255, ``[255, 0]`` closing stdin: the only way to give a command the end of
its input (v4 can only drop the whole connection, and the exit status with
it), so a command reading stdin needs a v5 server (Kubernetes 1.30 and later;
1.29 with the TranslateStreamCloseWebsocketRequests feature gate).

Exec has no ``--user``: commands run as the container's user (the image's
USER or the pod's securityContext.runAsUser)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading

from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import forbidden

try:
    from kubernetes.stream import ws_client
    from websocket import ABNF
    BINARY, TEXT, CLOSE_FRAME = ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT, ABNF.OPCODE_CLOSE
except ImportError:  # _k8s_client reports the missing library
    BINARY, TEXT, CLOSE_FRAME = 0x2, 0x1, 0x8

STDIN, STDOUT, STDERR, STATUS, CLOSE = 0, 1, 2, 3, 255
V5 = 'v5.channel.k8s.io'
CHUNK = 1 << 16        # stdin bytes per message
STATUS_LIMIT = 1 << 16  # a status is a few hundred bytes; never keep more than this
NO_STATUS = 255         # the connection ended without an exit status (as ssh reports a lost connection)
POLL = 0.2


def exit_status(raw):
    """(exit code, message) from the status channel's metav1.Status; the code
    is None when the status carries none (the command could not start)."""
    try:
        status = json.loads(bytes(raw).decode('utf-8'))
    except ValueError:
        return None, 'unreadable exec status: %r' % bytes(raw[:200])
    if not isinstance(status, dict):
        return None, 'unreadable exec status: %r' % bytes(raw[:200])
    if status.get('status') == 'Success':
        return 0, None
    if status.get('reason') == 'NonZeroExitCode':
        for cause in (status.get('details') or {}).get('causes') or []:
            if cause.get('reason') == 'ExitCode':
                try:
                    return int(cause.get('message')), None
                except (TypeError, ValueError):
                    break
    return None, status.get('message') or 'exec failed (%s)' % (status.get('reason') or 'no reason given')


def handshake_reason(exc):
    """The API server's message from a refused upgrade (ApiException reason
    'Handshake status 404 Not Found -+-+- {headers} -+-+- b'{Status JSON}'')."""
    text = str(getattr(exc, 'reason', None) or exc)
    needs = forbidden(text)
    if needs:
        return needs
    found = re.search(r'"message":\s*"((?:[^"\\]|\\.)*)"', text)
    if found:
        return '%s: %s' % (text.split(' -+-+- ', maxsplit=1)[0], found.group(1).replace('\\"', '"'))
    return text.split(' -+-+- ', maxsplit=1)[0]


def open_exec(client, pod, container, argv, stdin):
    """The kubernetes client's WebSocket to ``argv`` in ``pod``; OSError when
    it cannot be opened (so a pipeline reports it like a missing program)."""
    # The URL and headers (token, refreshed if the kubeconfig says so) as the
    # generated connect_get_namespaced_pod_exec builds them, opened by the
    # library's own websocket_call, as its stream() does (_k8s_rest: no
    # generated API class is imported).
    query = [('command', arg) for arg in argv] + [
        ('container', container), ('stdin', bool(stdin)), ('stdout', True), ('stderr', True), ('tty', False)]
    try:
        url, headers, _body, _post = client.core.prepare(
            'GET', '/api/v1/namespaces/{namespace}/pods/{name}/exec', {'namespace': client.namespace, 'name': pod},
            query, {'Accept': '*/*'})
        return ws_client.websocket_call(client.api_client.configuration, 'GET', url, headers=headers,
                                        _preload_content=False, binary=True)
    except Exception as exc:  # ApiException for a refused upgrade, socket errors for the rest
        raise OSError(errno.EIO, 'exec in pod %s (namespace %s, %s): %s'
                      % (pod, client.namespace, client.host, handshake_reason(exc)))


class _Killed(Exception):
    pass


def _ready(fd, events):
    """poll(2) on one descriptor for POLL seconds (select() fails above fd 1023)."""
    poller = select.poll()
    poller.register(fd, events)
    return poller.poll(POLL * 1000)


def _fileno(target):
    return target if isinstance(target, int) else target.fileno()


class ExecProcess(object):
    """Popen-like: ``stdin`` is PIPE (then ``.stdin`` is writable), DEVNULL or
    None (no stdin at all), or a file/fd to stream in; ``stdout`` and
    ``stderr`` PIPE (``.stdout``), DEVNULL/None (dropped) or a file/fd;
    ``stderr`` may be STDOUT. ``pid`` is None: the process is in the pod.
    ``returncode``: the command's exit code; -SIGKILL after kill(); -SIGPIPE
    when this side stopped reading stdout; 255 (and a line in stderr) when no
    status came back, 1 (and the API server's message) when the status had
    no exit code."""

    def __init__(self, connect, argv, stdin=None, stdout=None, stderr=None, where='the pod'):
        self.args = list(argv)
        self.pid = None
        self.returncode = None
        self.stdin = self.stdout = self.stderr = None
        self.where = where
        self._status = bytearray()
        self._killed = self._broken = self._ended = False
        self._lost = None
        self._done = threading.Event()
        use_stdin = stdin not in (None, subprocess.DEVNULL)
        self._ws = connect(use_stdin)
        self._sock = self._ws.sock
        if use_stdin and self._ws.subprotocol != V5:
            self._close_socket()
            raise OSError(errno.EPROTONOSUPPORT,
                          'exec in %s: the API server speaks %s, which cannot close a command\'s stdin; commands '
                          'that read stdin need %s (Kubernetes 1.30 or later), or use quickbite_db_access libpq'
                          % (where, self._ws.subprotocol or 'no channel protocol', V5))
        self._src = self._input(stdin)
        self._out = self._output(stdout, 'stdout')
        self._err = self._out if stderr == subprocess.STDOUT else self._output(stderr, 'stderr')
        self._pump = None
        if self._src is not None:
            self._pump = threading.Thread(target=self._send_stdin, name='exec-stdin', daemon=True)
            self._pump.start()
        self._reader = threading.Thread(target=self._receive, name='exec-output', daemon=True)
        self._reader.start()

    # ------------------------------------------------------------- plumbing

    def _input(self, stdin):
        if stdin in (None, subprocess.DEVNULL):
            return None
        if stdin == subprocess.PIPE:
            read, write = os.pipe()
            self.stdin = os.fdopen(write, 'wb')
            return read
        return os.dup(_fileno(stdin))  # the caller closes its copy once we are started, as with Popen

    def _output(self, target, name):
        if target in (None, subprocess.DEVNULL):
            return None
        if target == subprocess.PIPE:
            read, write = os.pipe()
            os.set_blocking(write, False)  # so kill() can interrupt a write the reader stopped taking
            setattr(self, name, os.fdopen(read, 'rb'))
            return write
        return os.dup(_fileno(target))

    def _write(self, fd, data):
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                if self._killed:
                    raise _Killed()
                _ready(fd, select.POLLOUT)

    def _send_stdin(self):
        """stdin to channel 0 in CHUNK messages; at its end, v5's close signal."""
        try:
            while not self._ended:
                if not _ready(self._src, select.POLLIN):
                    continue
                block = os.read(self._src, CHUNK)
                if not block:
                    self._ws.close_channel(STDIN)
                    break
                self._ws.write_stdin(block)
        except Exception:  # the connection is gone: the reader reports why
            pass
        finally:
            os.close(self._src)

    def _receive(self):
        try:
            while True:
                opcode, frame = self._sock.recv_data_frame(True)
                if opcode == CLOSE_FRAME:
                    break
                if opcode in (BINARY, TEXT) and frame.data:
                    self._dispatch(frame.data)
        except BrokenPipeError:
            self._broken = True
        except _Killed:
            pass
        except Exception as exc:  # websocket or socket errors: the connection is gone
            self._lost = str(exc) or exc.__class__.__name__
        finally:
            self._finish()

    def _dispatch(self, data):
        channel, payload = data[0], memoryview(data)[1:]
        if channel == STDOUT:
            if self._out is not None:
                self._write(self._out, payload)
        elif channel == STDERR:
            if self._err is not None:
                self._write(self._err, payload)
        elif channel == STATUS:
            if len(self._status) < STATUS_LIMIT:
                self._status.extend(payload)
        # 255 (the server closing one of its channels) and 4 need nothing here.

    def _finish(self):
        self._ended = True
        self._close_socket(abort_only=True)
        if self._pump is not None:
            self._pump.join(5)
        self._close_socket()
        code, message = (None, None)
        if self._status:
            code, message = exit_status(self._status)
            if code is None:
                code = 1
        elif self._broken:
            code = -signal.SIGPIPE
        elif self._killed:
            code = -signal.SIGKILL
        else:
            code = NO_STATUS
            message = 'exec in %s ended without an exit status: %s' % (self.where, self._lost or 'connection closed')
        if message and self._err is not None:
            try:
                self._write(self._err, ('%s\n' % message).encode('utf-8'))
            except (OSError, _Killed):
                pass
        for fd in set(fd for fd in (self._out, self._err) if fd is not None):
            try:
                os.close(fd)
            except OSError:
                pass
        self.returncode = code
        self._done.set()

    def _close_socket(self, abort_only=False):
        raw = getattr(self._sock, 'sock', None)
        try:
            if raw is not None:
                raw.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv or send
        except OSError:
            pass
        if not abort_only:
            self._sock.shutdown()

    # ------------------------------------------------------------- Popen's interface

    def poll(self):
        return self.returncode if self._done.is_set() else None

    def wait(self, timeout=None):
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def kill(self):
        """Drop the connection: the API server closes the command's stdin and
        stdout, which ends a dump or a psql waiting for input."""
        if not self._done.is_set():
            self._killed = True
            self._close_socket(abort_only=True)
