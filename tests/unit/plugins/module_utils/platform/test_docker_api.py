"""The Engine API path of the Compose adapter, replaying container lists
recorded from Docker Engine 20.10.24 (API 1.41) on the reference stack, each
beside the ``docker compose ps --all --format json`` (2.40.3) taken at the
same moment: healthy; the backend just restarted (health: starting); Redis
stopped and an exited ``compose run`` container (one-off) left behind."""
import json
import os
import socketserver
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.platform import _docker_api
from ansible_collections.quickbite.ops.plugins.module_utils.platform._docker_api import EngineError, ps_row
from tests.unit.plugins.module_utils.platform.test_compose import _adapter_and_module

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'docker_api', '20.10.24')
STATES = ['healthy', 'starting', 'exited']
ROW_FIELDS = ('Name', 'Service', 'Project', 'State', 'Health', 'ExitCode', 'Image')


def _containers(state):
    with open(os.path.join(FIXTURES, state, 'containers.json')) as handle:
        return json.load(handle)


def _ps(state):
    with open(os.path.join(FIXTURES, state, 'ps-compose-2.40.3.json')) as handle:
        return [json.loads(line) for line in handle if line.strip()]


class FakeEngine(object):
    def __init__(self, containers=None, error=None, restart_error=None):
        self.containers, self.error, self.restart_error, self.calls = containers, error, restart_error, []
        self.restarted = []

    def project_containers(self, project):
        self.calls.append(project)
        if self.error:
            raise EngineError(self.error)
        return self.containers

    def restart(self, container_id):
        self.restarted.append(container_id)
        if self.restart_error:
            raise EngineError(self.restart_error)


@pytest.mark.parametrize('state', STATES)
def test_rows_are_those_compose_ps_printed(state):
    ours = sorted((ps_row(c) for c in _containers(state)), key=lambda r: r['Name'])
    theirs = sorted(_ps(state), key=lambda r: r['Name'])
    assert [r['Name'] for r in ours] == [r['Name'] for r in theirs]
    for mine, recorded in zip(ours, theirs):
        assert mine['ID'].startswith(recorded['ID'])
        assert dict((k, mine[k]) for k in ROW_FIELDS) == dict((k, recorded[k]) for k in ROW_FIELDS)


def test_health_object_of_newer_apis_and_unknown_status_lines():
    base = dict(Id='a' * 64, Names=['/quickbite-backend-1'], State='running', Labels={})
    assert ps_row(dict(base, Status='Up 2 seconds', Health={'Status': 'starting'}))['Health'] == 'starting'
    assert ps_row(dict(base, Status='Up 2 seconds (healthy)', Health={'Status': 'none'}))['Health'] == 'healthy'
    assert ps_row(dict(base, Status='Up 2 seconds'))['Health'] == ''
    # A status line this client cannot read is never taken for healthy.
    assert ps_row(dict(base, Status='Up 2 seconds (something new)'))['Health'] == 'unknown'
    assert ps_row(dict(base, Names=['/other/alias', '/quickbite-backend-1']))['Name'] == 'quickbite-backend-1'


def _inspect_for(containers, **state):
    """docker inspect --format output (the adapter's state-only template) for these containers."""
    rows = []
    for c in containers:
        row = dict(Id=c['Id'], Name=c['Names'][0], RestartCount=0, Image=c['ImageID'], Config={'Image': c['Image']},
                   State=dict(Status=c['State'], Running=c['State'] == 'running', Restarting=False, ExitCode=0))
        row['State'].update(state)
        rows.append(json.dumps(row))
    return '\n'.join(rows)


def test_health_view_reads_the_engine_not_compose_ps(tmp_path):
    engine = FakeEngine(_containers('healthy'))
    adapter, module = _adapter_and_module(tmp_path, engine=engine)
    state = dict((s['name'], s) for s in adapter.services(detail=False))
    assert all(s['ok'] for s in state.values()) and engine.calls == ['quickbite']
    assert not [c for c in module.calls if 'ps' in c], 'compose ps must not run when the engine answers'
    assert not [c for c in module.calls if 'version' in c], 'the health view needs no version check'
    assert not [c for c in module.calls if c[1] == 'inspect'], 'healthy containers need no inspect'
    backend = state['backend']['replicas'][0]
    assert (backend['name'], backend['health'], backend['ready']) == ('quickbite-backend-1', 'healthy', True)
    # The service list is read once per run.
    adapter.services(detail=False)
    assert len([c for c in module.calls if 'config' in c]) == 1 and len(engine.calls) == 2


def test_starting_backend_is_inspected_and_not_ready(tmp_path):
    containers = _containers('starting')
    backend = [c for c in containers if c['Labels']['com.docker.compose.service'] == 'backend']
    inspect = _inspect_for(backend, Health={'Status': 'starting'})
    adapter, module = _adapter_and_module(tmp_path, engine=FakeEngine(containers), inspect=inspect)
    state = dict((s['name'], s) for s in adapter.services(detail=False))
    inspected = [c for c in module.calls if c[1] == 'inspect'][0]
    assert inspected[4:] == [backend[0]['Id']]
    assert state['backend']['problems'] == ['quickbite-backend-1 is health starting, restarts 0']
    assert state['postgres']['ok'] and state['redis']['ok'] and state['frontend']['ok']


def test_exited_service_and_one_off_container_fail_as_with_compose_ps(tmp_path):
    containers = _containers('exited')
    down = [c for c in containers if c['State'] == 'exited']
    inspect = _inspect_for(down, Status='exited', Running=False, ExitCode=1)
    adapter = _adapter_and_module(tmp_path, engine=FakeEngine(containers), inspect=inspect)[0]
    state = dict((s['name'], s) for s in adapter.services(detail=False))
    assert state['redis']['problems'] == ['quickbite-redis-1 is exited (exit code 1), restarts 0']
    assert state['frontend']['problems'] == ['quickbite-frontend-oneoff-rec is exited (exit code 1), restarts 0']
    assert state['backend']['ok'] and state['postgres']['ok']


def test_engine_failure_falls_back_to_compose_ps(tmp_path):
    engine = FakeEngine(error='docker socket /var/run/docker.sock: [Errno 13] Permission denied')
    adapter, module = _adapter_and_module(tmp_path, engine=engine)
    assert all(s['ok'] for s in adapter.services())
    assert [c for c in module.calls if 'ps' in c] and adapter.reader.engine is None


@pytest.mark.parametrize('environ, context, expected', [
    ({}, None, 'default'),
    ({'DOCKER_HOST': 'unix://SOCK'}, None, 'default'),
    ({'DOCKER_HOST': 'tcp://127.0.0.1:2376'}, None, None),
    ({'DOCKER_HOST': 'ssh://deploy@prod'}, None, None),
    ({'DOCKER_CONTEXT': 'prod'}, None, None),
    ({'DOCKER_CONTEXT': 'default'}, None, 'default'),
    ({}, 'prod', None),
    ({}, 'default', 'default'),
])
def test_engine_only_when_the_cli_would_use_the_local_socket(tmp_path, environ, context, expected):
    sock = tmp_path / 'docker.sock'
    sock.write_text('')
    config = tmp_path / 'config'
    config.mkdir()
    if context:
        (config / 'config.json').write_text(json.dumps({'currentContext': context}))
    env = dict((k, v.replace('SOCK', str(sock))) for k, v in environ.items())
    env['DOCKER_CONFIG'] = str(config)
    assert _docker_api.local_socket(env, default=str(sock)) == (str(sock) if expected else None)


def test_no_socket_no_engine(tmp_path):
    env = {'DOCKER_CONFIG': str(tmp_path)}
    assert _docker_api.local_socket(env, default=str(tmp_path / 'missing.sock')) is None
    assert _docker_api.local_engine(dict(env, DOCKER_HOST='unix://%s/missing.sock' % tmp_path)) is None
    (tmp_path / 'config.json').write_text('{not json')
    assert _docker_api.local_socket(env, default=str(tmp_path)) is None, 'a broken config: let the CLI say so'


class _Daemon(BaseHTTPRequestHandler):
    answers = {}
    seen = []

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        self.seen.append(self.path)
        code, body = self.answers.get(self.path.split('?')[0], (404, b'{"message":"page not found"}'))
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

    def address_string(self):
        return 'unix'


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def daemon(tmp_path):
    path = str(tmp_path / 'docker.sock')
    server = _UnixServer(path, _Daemon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()
    _Daemon.answers.clear()
    del _Daemon.seen[:]


def test_client_asks_for_the_project_as_compose_does(daemon):
    _Daemon.answers['/containers/json'] = (200, json.dumps(_containers('healthy')).encode())
    rows = _docker_api.EngineAPI(daemon).project_containers('QuickBite')
    assert len(rows) == 4
    from urllib.parse import parse_qs, urlparse
    query = parse_qs(urlparse(_Daemon.seen[0]).query)
    assert query['all'] == ['1']
    assert json.loads(query['filters'][0]) == {
        'label': ['com.docker.compose.project=quickbite', 'com.docker.compose.config-hash']}


def test_client_errors_are_engine_errors(daemon, tmp_path):
    _Daemon.answers['/containers/json'] = (500, b'{"message":"boom"}')
    with pytest.raises(EngineError, match='answered 500'):
        _docker_api.EngineAPI(daemon).project_containers('quickbite')
    _Daemon.answers['/containers/json'] = (200, b'not json')
    with pytest.raises(EngineError, match='not JSON'):
        _docker_api.EngineAPI(daemon).project_containers('quickbite')
    with pytest.raises(EngineError, match='missing.sock'):
        _docker_api.EngineAPI(str(tmp_path / 'missing.sock')).project_containers('quickbite')


def _starting_adapter(tmp_path, extra_replies=()):
    containers = _containers('starting')
    backend = [c for c in containers if c['Labels']['com.docker.compose.service'] == 'backend']
    adapter, module = _adapter_and_module(tmp_path, engine=FakeEngine(containers),
                                          inspect=_inspect_for(backend, Health={'Status': 'starting'}))
    module.replies.extend(extra_replies)
    return adapter, module


def test_wait_takes_the_health_endpoint_for_a_starting_sole_backend(tmp_path):
    adapter = _starting_adapter(tmp_path)[0]
    asked = []
    state = adapter.wait('backend', 30, endpoint=lambda: asked.append(1) or True, sleep=lambda s: None)
    assert asked == [1] and state['ok']
    assert state['replicas'][0]['ready_by'] == 'health endpoint UP (probe still starting)'


def test_wait_without_an_up_endpoint_waits_for_the_probe(tmp_path):
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import TimeoutError_
    adapter = _starting_adapter(tmp_path)[0]
    with pytest.raises(TimeoutError_, match='backend did not become ready within 0 s: quickbite-backend-1 is health'):
        adapter.wait('backend', 0, endpoint=lambda: False, sleep=lambda s: None)
    with pytest.raises(TimeoutError_):
        adapter.wait('backend', 0, sleep=lambda s: None)


def test_a_restart_right_after_the_plan_asks_compose_once(tmp_path):
    dry_run = ('--dry-run', 'up', '-d', '--no-deps', '--scale', 'backend=1', 'backend')
    adapter, module = _starting_adapter(tmp_path, [(dry_run, (0, '', ' Container quickbite-backend-1  Running\n')),
                                                   (('--force-recreate', '--scale', 'backend=1', 'backend'), (0, '', ''))])
    planned = adapter.workload('backend')
    assert planned['config_changed'] is False and planned['replicas'] == 1
    before = adapter.restart('backend')
    assert before is planned
    assert len([c for c in module.calls if '--dry-run' in c]) == 1
    # The restart itself is the Engine call compose restart makes, not the CLI.
    assert adapter.reader.engine.restarted == [c['Id'] for c in _containers('starting')
                                               if c['Labels']['com.docker.compose.service'] == 'backend']
    assert not [c for c in module.calls if 'restart' in c]
    with open(str(tmp_path / '.quickbite-ops' / 'history.json')) as handle:
        assert json.load(handle)['backend'][-1]['action'] == 'restart'
    # A recreate decided by the caller (a rotation) reads the state again, and asks no verdict.
    calls = len(module.calls)
    adapter.restart('backend', recreate=True)
    assert not [c for c in module.calls[calls:] if '--dry-run' in c]


def test_named_services_with_containers_need_no_service_list(tmp_path):
    engine = FakeEngine(_containers('healthy'))
    adapter, module = _adapter_and_module(tmp_path, engine=engine)
    assert adapter.services(['backend'], detail=False)[0]['ok']
    assert not [c for c in module.calls if 'config' in c], 'a labelled container shows the service exists'
    # A name without containers may be a typo: the compose file decides.
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError
    with pytest.raises(NotFoundError, match='unknown service.*worker'):
        adapter.services(['worker'], detail=False)
    assert [c for c in module.calls if 'config' in c]


def test_engine_restart_skips_one_off_containers(tmp_path):
    engine = FakeEngine(_containers('exited'))
    adapter, module = _adapter_and_module(tmp_path, engine=engine)
    adapter.restart('frontend')
    assert engine.restarted == [c['Id'] for c in _containers('exited') if c['Names'] == ['/quickbite-frontend']]
    assert not [c for c in module.calls if 'restart' in c]


def test_lifecycle_hooks_or_no_engine_restart_through_the_cli(tmp_path):
    engine = FakeEngine(_containers('healthy'))
    adapter, module = _adapter_and_module(tmp_path, engine=engine)
    module.replies.append((('restart', 'backend'), (0, '', '')))
    (tmp_path / 'docker-compose.prod.yml').write_text('services:\n  backend:\n    post_start:\n      - command: [x]\n')
    adapter.restart('backend')
    assert engine.restarted == [] and [c[-2:] for c in module.calls if 'restart' in c] == [['restart', 'backend']]


def test_a_failed_engine_restart_names_the_service_and_the_daemon_answer(tmp_path):
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
    answer = 'docker socket x: POST /containers/1/restart answered 500: cannot restart'
    engine = FakeEngine(_containers('healthy'), restart_error=answer)
    adapter = _adapter_and_module(tmp_path, engine=engine)[0]
    with pytest.raises(PlatformError, match='restart of backend failed: .*answered 500: cannot restart'):
        adapter.restart('backend')


def test_wait_polls_read_the_list_and_a_timeout_inspects_for_evidence(tmp_path, monkeypatch):
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import TimeoutError_
    from ansible_collections.quickbite.ops.plugins.module_utils.platform import compose
    adapter, module = _starting_adapter(tmp_path)
    clock = iter([0.0, 0.0, 1.0, 2.0])
    monkeypatch.setattr(compose.time, 'time', lambda: next(clock, 100.0))
    with pytest.raises(TimeoutError_, match='is health starting, restarts 0'):
        adapter.wait('backend', 10, sleep=lambda s: None)
    assert len([c for c in module.calls if c[1] == 'inspect']) == 1, 'only the final state is inspected'


def test_client_restart_posts_and_expects_no_content(daemon):
    _Daemon.answers['/containers/abc/restart'] = (204, b'')
    _docker_api.EngineAPI(daemon).restart('abc')
    assert _Daemon.seen == ['/containers/abc/restart']
    _Daemon.answers['/containers/abc/restart'] = (404, b'{"message":"No such container: abc"}')
    with pytest.raises(EngineError, match='POST /containers/abc/restart answered 404: .*No such container'):
        _docker_api.EngineAPI(daemon).restart('abc')


def test_the_plan_reads_image_and_id_from_the_list_and_inspects_a_moved_tag(tmp_path):
    containers = _containers('healthy')
    backend = [c for c in containers if c['Labels']['com.docker.compose.service'] == 'backend'][0]
    adapter, module = _adapter_and_module(tmp_path, engine=FakeEngine(containers))
    current = adapter._current('backend')
    assert (current['image'], current['image_id']) == (backend['Image'], backend['ImageID'])
    assert not [c for c in module.calls if c[1] == 'inspect']
    # A tag moved to another image: the list shows the old image's ID, inspect the reference.
    moved = [dict(c, Image=c['ImageID']) if c is backend else c for c in containers]
    adapter, module = _adapter_and_module(tmp_path, engine=FakeEngine(moved), inspect=_inspect_for([backend]))
    current = adapter._current('backend')
    assert (current['image'], current['image_id']) == (backend['Image'], backend['ImageID'])
    assert [c for c in module.calls if c[1] == 'inspect']
