import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.health import checks
from tests.unit.fakes import FakeAdapter


class _Handler(BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):
        code, body = self.routes.get(self.path, (404, b'not found'))
        self.send_response(code)
        self.end_headers()
        self.wfile.write(body if isinstance(body, bytes) else json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def http():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1], _Handler.routes
    server.shutdown()
    _Handler.routes.clear()


def _health(status='UP', **components):
    return {'status': status, 'components': dict((k, {'status': v}) for k, v in components.items())}


def test_actuator_up(http):
    url, routes = http
    routes['/actuator/health'] = (200, _health(db='UP', redis='UP', diskSpace='UP'))
    result = checks.actuator(url, 2)
    assert result['status'] == 'UP'
    assert result['details']['components'] == {'db': 'UP', 'redis': 'UP', 'diskSpace': 'UP'}


def test_actuator_component_down_names_it_with_error(http):
    url, routes = http
    body = _health('DOWN', db='UP', redis='DOWN', diskSpace='UP')
    body['components']['redis']['details'] = {'error': 'RedisConnectionFailureException: refused'}
    routes['/actuator/health'] = (503, body)
    result = checks.actuator(url, 2)
    assert result['status'] == 'DOWN'
    assert 'HTTP 503' in result['evidence']
    assert 'redis DOWN (RedisConnectionFailureException: refused)' in result['evidence']


def test_actuator_200_with_unknown_component_is_down(http):
    url, routes = http
    body = _health('UP', db='UP', redis='UNKNOWN')
    body['components']['db']['components'] = {'replica': {'status': 'DOWN'}}
    routes['/actuator/health'] = (200, body)
    result = checks.actuator(url, 2)
    assert result['status'] == 'DOWN'
    assert 'redis UNKNOWN' in result['evidence'] and 'db.replica DOWN' in result['evidence']


def test_actuator_not_json_and_no_answer(http):
    url, routes = http
    routes['/actuator/health'] = (200, b'<html>')
    assert 'not actuator JSON' in checks.actuator(url, 2)['evidence']
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    result = checks.actuator('http://127.0.0.1:%d' % port, 1)
    assert result['status'] == 'DOWN' and 'no answer' in result['evidence']


def test_frontend_requires_index_and_deep_route(http):
    url, routes = http
    routes['/'] = (200, b'<!doctype html><div id=app>')
    result = checks.frontend(url, '/orders/42', 2)
    assert result['status'] == 'DOWN'
    assert 'GET %s/orders/42: HTTP 404' % url in result['evidence']
    routes['/orders/42'] = (200, b'<!doctype html>')
    assert checks.frontend(url, '/orders/42', 2)['status'] == 'UP'


class _FakeRedis(object):
    """Speaks just enough RESP: AUTH against a password, then PING."""

    def __init__(self, password):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.password = password
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn = self.sock.accept()[0]
            except OSError:
                return
            reader = conn.makefile('rb')
            authed = self.password is None
            try:
                while True:
                    header = reader.readline()
                    if not header:
                        break
                    parts = []
                    for dummy in range(int(header[1:])):
                        reader.readline()
                        parts.append(reader.readline().rstrip(b'\r\n').decode())
                    if parts[0] == 'AUTH':
                        authed = parts[1] == self.password
                        conn.sendall(b'+OK\r\n' if authed else b'-WRONGPASS invalid username-password pair\r\n')
                    elif not authed:
                        conn.sendall(b'-NOAUTH Authentication required.\r\n')
                    else:
                        conn.sendall(b'+PONG\r\n')
            finally:
                conn.close()


def test_redis_ping_with_auth():
    server = _FakeRedis('pw')
    assert checks.redis('127.0.0.1', server.port, 'pw', 2)['status'] == 'UP'
    wrong = checks.redis('127.0.0.1', server.port, 'nope', 2)
    assert wrong['status'] == 'DOWN' and 'WRONGPASS' in wrong['evidence']
    assert 'nope' not in wrong['evidence']
    missing = checks.redis('127.0.0.1', server.port, None, 2)
    assert 'NOAUTH' in missing['evidence'] and 'quickbite_redis_password' in missing['evidence']


def test_redis_refused_names_redis():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    result = checks.redis('127.0.0.1', port, None, 1)
    assert result['status'] == 'DOWN'
    assert result['evidence'].startswith('unable to connect to redis at 127.0.0.1:%d' % port)


class _Adapter(FakeAdapter):

    def __init__(self, services, logs):
        super(_Adapter, self).__init__()
        self._services, self._logs = services, logs

    def services(self, names=None, detail=True):
        return self._services

    def logs(self, service, tail=100, **kwargs):
        return [dict(source=service + '-1', lines=self._logs.get(service, [])[-tail:])]


def test_platform_state_reports_failing_service_with_last_log_lines():
    from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service, replica
    services = [
        judge_service('backend', 'backend', None, [replica('quickbite-backend-1', 'running', True)]),
        judge_service('redis', 'redis', None, [replica('quickbite-redis-1', 'exited', False, exit_code=0,
                                                       reason='exited')]),
    ]
    adapter = _Adapter(services, {'redis': ['line %d' % i for i in range(30)]})
    result = checks.platform_state(adapter, [], 3)
    assert result['status'] == 'DOWN'
    assert result['evidence'].startswith('redis: quickbite-redis-1 is exited (exit code 0)')
    assert result['evidence'].endswith('line 27\n    line 28\n    line 29')
    assert 'backend' not in result['evidence']


def test_failing_services_log_lines_mask_every_secret_of_the_configuration():
    """Issue 10, item 19: the health check masked the DB password it read
    itself but printed JWT_SECRET=... from a container's log."""
    from ansible_collections.quickbite.ops.plugins.module_utils.health import options, service
    from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service, replica
    secrets = dict(JWT_SECRET='917a1dc6220d47a2368243f1', REDIS_PASSWORD='0b0cb7f571cfcbfa', SERVER_PORT='18080')

    class Module(object):
        params = dict((name, spec.get('default')) for name, spec in options.health_argument_spec().items())
        no_log_values = set()
    Module.params.update(checks=['platform'], log_lines=5)

    adapter = _Adapter([judge_service('redis', 'redis', None, [replica('quickbite-redis-1', 'exited', False)])],
                       {'redis': ['JWT_SECRET=917a1dc6220d47a2368243f1', 'requirepass 0b0cb7f571cfcbfa on 18080']})
    adapter.config_items = lambda: dict(secrets)
    settings = options.health_settings(Module, adapter)
    result = service.run_once(adapter, settings)['platform']
    assert result['status'] == 'DOWN'
    assert result['evidence'].endswith('JWT_SECRET=********\n    requirepass ******** on 18080')
    assert result['details']['services'][0]['last_log_lines'] == ['JWT_SECRET=********', 'requirepass ******** on 18080']
    assert Module.no_log_values == set([secrets['JWT_SECRET'], secrets['REDIS_PASSWORD']])


class _UnknownServices(_Adapter):
    def services(self, names=None, detail=True):
        raise NotFoundError('unknown service(s) worker; the compose file defines backend, postgres')


def test_a_service_name_the_operator_chose_that_does_not_exist_is_bad_input_not_downtime():
    """A typo in healthcheck_services fails at once (no retries until the
    timeout); without chosen names a missing service is a DOWN finding."""
    adapter = _UnknownServices([], {})
    with pytest.raises(ConfigError) as raised:
        checks.platform_state(adapter, ['worker'], 3)
    assert 'unknown service(s) worker' in raised.value.msg and 'healthcheck_services' in raised.value.msg
    result = checks.platform_state(adapter, [], 3)
    assert result['status'] == 'DOWN' and 'unknown service(s) worker' in result['evidence']
