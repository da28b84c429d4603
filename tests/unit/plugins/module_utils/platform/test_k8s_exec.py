"""Frames and channels of pod exec (platform/_k8s_exec.py), replayed as the
API server sends them: the kubelet's empty opening message, stdout and
stderr, the status on channel 3 (the JSON the kubelet writes), v5's close
signal, and what this side sends for stdin."""
import errno
import os
import signal
import subprocess
import tempfile
import threading

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_exec
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_rest import RestApi
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_exec import (
    BINARY, CLOSE_FRAME, TEXT, ExecProcess, exit_status, handshake_reason)

V5, V4 = 'v5.channel.k8s.io', 'v4.channel.k8s.io'
OPENED = (BINARY, b'\x01')  # the kubelet's empty message on the lowest writable channel
SUCCESS = (BINARY, b'\x03{"metadata":{},"status":"Success"}')
EXIT_3 = (BINARY, b'\x03{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: '
                  b'error executing command [psql -X], exit code 3","reason":"NonZeroExitCode","details":{"causes":'
                  b'[{"reason":"ExitCode","message":"3"}]}}')
NOT_FOUND = (BINARY, b'\x03{"metadata":{},"status":"Failure","message":"Internal error occurred: error executing '
                     b'command in container: failed to exec in container: exec: \\"pg_dumpx\\": executable file not '
                     b'found in $PATH","reason":"InternalError","details":{"causes":[{"message":"error executing '
                     b'command in container"}]},"code":500}')
CLOSED = (CLOSE_FRAME, b'\x03\xe8')
ALL_BYTES = bytes(range(256)) * 3


class Frame(object):
    def __init__(self, data):
        self.data = data


class FakeRaw(object):
    """The TCP socket under the WebSocket: shutdown() wakes a blocked recv."""

    def __init__(self):
        self.down = threading.Event()

    def shutdown(self, how):
        self.down.set()


class FakeSocket(object):
    """websocket.WebSocket replaying frames; an Event in the list blocks until set."""

    def __init__(self, frames):
        self.frames = list(frames)
        self.sock = FakeRaw()
        self.closed = False

    def recv_data_frame(self, control_frame=False):
        while self.frames:
            item = self.frames.pop(0)
            if isinstance(item, threading.Event):
                while not item.wait(0.01):
                    if self.sock.down.is_set():
                        raise OSError(errno.ECONNRESET, 'Connection reset by peer')
                continue
            return item[0], Frame(item[1])
        raise OSError(errno.ECONNRESET, 'Connection to remote host was lost.')

    def shutdown(self):
        self.closed = True


class FakeWS(object):
    """kubernetes.stream.ws_client.WSClient: what ExecProcess uses of it."""

    def __init__(self, frames, subprotocol=V5, stdin_done=None):
        self.sock = FakeSocket(frames)
        self.subprotocol = subprotocol
        self.sent = []
        self.closed_channels = []
        self.stdin_done = stdin_done

    def write_stdin(self, data):
        self.sent.append(bytes(data))

    def close_channel(self, channel):
        self.closed_channels.append(channel)
        if self.stdin_done is not None:
            self.stdin_done.set()


def start(ws, argv=('pg_dump',), stdin=None, stdout=subprocess.PIPE, stderr=None):
    opened = []

    def connect(with_stdin):
        opened.append(with_stdin)
        return ws
    proc = ExecProcess(connect, list(argv), stdin, stdout, stderr, where='pod postgres-abc (container postgres)')
    proc.opened_with_stdin = opened[0]
    return proc


def read_err(handle):
    handle.seek(0)
    return handle.read().decode()


def test_stdout_and_stderr_are_demultiplexed_byte_for_byte():
    ws = FakeWS([OPENED, (BINARY, b'\x01' + ALL_BYTES[:300]), (BINARY, b'\x02pg_dump: warning\n'),
                 (BINARY, b'\x01' + ALL_BYTES[300:]), SUCCESS, CLOSED])
    with tempfile.TemporaryFile() as err:
        proc = start(ws, stderr=err)
        assert proc.stdout.read() == ALL_BYTES
        assert proc.wait(5) == 0 and proc.returncode == 0 and proc.poll() == 0
        assert read_err(err) == 'pg_dump: warning\n'
    assert proc.pid is None and proc.opened_with_stdin is False and ws.sock.closed


def test_text_frames_and_server_close_signals_are_handled():
    ws = FakeWS([OPENED, (TEXT, b'\x01line\n'), (BINARY, b'\xff\x01'), (BINARY, b'\x04{}'), SUCCESS, CLOSED])
    proc = start(ws)
    assert proc.stdout.read() == b'line\n' and proc.wait(5) == 0


def test_the_exit_code_comes_from_the_status_channel():
    with tempfile.TemporaryFile() as err:
        proc = start(FakeWS([OPENED, (BINARY, b'\x02ERROR:  division by zero\n'), EXIT_3, CLOSED]), stderr=err)
        assert proc.wait(5) == 3
        assert read_err(err) == 'ERROR:  division by zero\n'  # the status adds nothing to a plain exit code


def test_a_command_that_cannot_start_fails_with_the_api_servers_message():
    with tempfile.TemporaryFile() as err:
        proc = start(FakeWS([NOT_FOUND, CLOSED]), argv=['pg_dumpx'], stderr=err)
        assert proc.wait(5) == 1
        assert 'executable file not found in $PATH' in read_err(err)


def test_a_connection_lost_without_status_is_255_with_the_reason():
    with tempfile.TemporaryFile() as err:
        proc = start(FakeWS([OPENED, (BINARY, b'\x01partial')]), stderr=err)
        assert proc.stdout.read() == b'partial'
        assert proc.wait(5) == 255
        assert 'exec in pod postgres-abc (container postgres) ended without an exit status' in read_err(err)


def test_stderr_to_stdout_merges_and_devnull_drops():
    proc = start(FakeWS([(BINARY, b'\x01out '), (BINARY, b'\x02err'), SUCCESS, CLOSED]), stderr=subprocess.STDOUT)
    assert proc.stdout.read() == b'out err' and proc.wait(5) == 0
    proc = start(FakeWS([(BINARY, b'\x01out'), SUCCESS, CLOSED]), stdout=subprocess.DEVNULL)
    assert proc.stdout is None and proc.wait(5) == 0


def test_stdin_from_a_file_streams_in_bounded_messages_then_closes_the_channel(tmp_path):
    data = os.urandom(3 * _k8s_exec.CHUNK + 123)
    path = tmp_path / 'backup'
    path.write_bytes(data)
    done = threading.Event()
    ws = FakeWS([OPENED, done, SUCCESS, CLOSED], stdin_done=done)
    with open(str(path), 'rb') as source:
        proc = start(ws, argv=['pg_restore'], stdin=source)
    # the caller closed its copy at once, as Pipeline.start does: the stream goes on from ours
    assert proc.wait(5) == 0 and proc.opened_with_stdin is True
    assert b''.join(ws.sent) == data
    assert max(len(m) for m in ws.sent) <= _k8s_exec.CHUNK
    assert ws.closed_channels == [0]


def test_stdin_pipe_for_a_psql_session():
    done = threading.Event()
    ws = FakeWS([OPENED, done, SUCCESS, CLOSED], stdin_done=done)
    proc = start(ws, argv=['psql'], stdin=subprocess.PIPE)
    proc.stdin.write(b'SELECT 1;\n')
    proc.stdin.flush()
    proc.stdin.close()
    assert proc.wait(5) == 0
    assert b''.join(ws.sent) == b'SELECT 1;\n' and ws.closed_channels == [0]


def test_a_v4_server_cannot_end_stdin_so_stdin_is_refused():
    ws = FakeWS([SUCCESS, CLOSED], subprotocol=V4)
    with pytest.raises(OSError) as info:
        start(ws, stdin=subprocess.PIPE)
    assert info.value.errno == errno.EPROTONOSUPPORT and 'v5.channel.k8s.io' in info.value.strerror
    assert ws.sock.closed
    proc = start(FakeWS([(BINARY, b'\x01ok'), SUCCESS, CLOSED], subprotocol=V4))
    assert proc.stdout.read() == b'ok' and proc.wait(5) == 0


def test_kill_drops_the_connection_and_reports_sigkill():
    proc = start(FakeWS([OPENED, threading.Event(), SUCCESS]))
    assert proc.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(0.05)
    proc.kill()
    assert proc.wait(5) == -signal.SIGKILL


def test_kill_interrupts_a_write_the_reader_stopped_taking():
    chunk = (BINARY, b'\x01' + b'x' * 65536)
    proc = start(FakeWS([chunk] * 64 + [SUCCESS, CLOSED]))  # 4 MiB: far more than a pipe holds
    proc.stdout.read(10)
    proc.kill()
    assert proc.wait(5) == -signal.SIGKILL


def test_a_closed_stdout_is_sigpipe():
    chunk = (BINARY, b'\x01' + b'x' * 65536)
    proc = start(FakeWS([chunk] * 64 + [SUCCESS, CLOSED]))
    proc.stdout.read(10)
    proc.stdout.close()
    assert proc.wait(5) == -signal.SIGPIPE


@pytest.mark.parametrize('raw, code, message', [
    (SUCCESS[1][1:], 0, None),
    (EXIT_3[1][1:], 3, None),
    (b'{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}}',
     None, None),
    (NOT_FOUND[1][1:], None, 'executable file not found'),
    (b'{"status":"Failure"}', None, 'no reason given'),
    (b'not json', None, 'unreadable exec status'),
    (b'[]', None, 'unreadable exec status'),
])
def test_exit_status(raw, code, message):
    got_code, got_message = exit_status(raw)
    assert got_code == code
    if message:
        assert message in got_message


def test_handshake_reason_keeps_the_api_servers_message():
    reason = ('Handshake status 400 Bad Request -+-+- {\'content-type\': \'application/json\'} -+-+- b\'{"kind":'
              '"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"container pg is not valid for '
              'pod postgres-abc","reason":"BadRequest","code":400}\'')
    exc = Exception()
    exc.reason = reason
    assert handshake_reason(exc) == 'Handshake status 400 Bad Request: container pg is not valid for pod postgres-abc'
    exc.reason = '[Errno 111] Connection refused'
    assert handshake_reason(exc) == '[Errno 111] Connection refused'


def test_an_exec_opens_its_websocket_without_touching_the_shared_api_client(monkeypatch):
    # kubernetes.stream.stream swaps the call_api() of the ApiClient it is given
    # while it opens: on the shared one, a read made at that moment by another
    # thread became a WebSocket handshake ("Handshake status 200 OK"). The
    # exec URL is built here and opened by websocket_call itself: nothing swapped.
    from kubernetes import client as k8s_client
    configuration = k8s_client.Configuration()
    configuration.host = 'https://127.0.0.1:6443'
    configuration.api_key = {'authorization': 'Bearer tok-123'}
    shared = k8s_client.ApiClient(configuration)
    call_api = shared.call_api
    seen = []

    def fake_call(config, method, url, **kwargs):
        seen.append((config, method, url, kwargs, shared.call_api))
        return 'ws'
    monkeypatch.setattr(_k8s_exec.ws_client, 'websocket_call', fake_call)

    class Client(object):
        api_client, namespace, host = shared, 'quick bite', 'https://127.0.0.1:6443'
        core = RestApi(shared)
    assert _k8s_exec.open_exec(Client(), 'postgres-0', 'pg', ['psql', '-c', "SELECT 'a&b'"], None) == 'ws'
    config, method, url, kwargs, during = seen[0]
    assert config is configuration and method == 'GET' and during == call_api
    assert url == ('https://127.0.0.1:6443/api/v1/namespaces/quick%20bite/pods/postgres-0/exec?command=psql&command=-c'
                   '&command=SELECT%20%27a%26b%27&container=pg&stdin=false&stdout=true&stderr=true&tty=false')
    assert kwargs['headers']['authorization'] == 'Bearer tok-123'
    assert kwargs['binary'] is True and kwargs['_preload_content'] is False
