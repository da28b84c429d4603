"""Replays `docker compose` output recorded from the reference stack
(tests/unit/fixtures/compose/<version>/). 2.20.3's ps.json is the same
containers in the JSON-array form Compose printed before 2.21."""
import json
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import compose
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_cli import (
    parse_json_stream, parse_version)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._compose_read import ComposeReader
from tests.unit.fakes import FakeModule

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'compose')


def _read(version, name):
    with open(os.path.join(FIXTURES, version, name)) as handle:
        return handle.read()


def _adapter_and_module(tmp_path, version='2.40.3', compose_version='Docker Compose version v2.40.3', inspect=None,
                        engine=None):
    (tmp_path / 'docker-compose.prod.yml').write_text('name: quickbite\n')
    (tmp_path / '.env.prod').write_text('# settings\nDB_PASSWORD=pw\nREDIS_PASSWORD=rp\n')
    replies = [
        (('compose', 'version', '--short'), (0, compose_version.split()[-1].lstrip('v') + '\n', '')),
        (('ps', '--all', '--format', 'json'), (0, _read(version, 'ps.json'), '')),
        (('config', '--services'), (0, _read('2.40.3', 'services.txt'), '')),
        (('logs', '--no-color', '--tail', '3', 'redis'), (0, _read('2.40.3', 'logs.txt'), '')),
    ]
    module = FakeModule(replies=replies)
    original = module.run_command

    def run_command(argv, cwd=None, **kwargs):
        if argv[1] == 'inspect':
            module.calls.append(list(argv))
            return 0, inspect if inspect is not None else _read('2.40.3', 'inspect.json'), ''
        return original(argv, cwd=cwd, **kwargs)
    module.run_command = run_command
    params = dict(project_dir=str(tmp_path), compose_files=['docker-compose.prod.yml'],
                  env_file='.env.prod', project_name='quickbite')
    adapter = compose.ComposeAdapter(module, params)
    adapter.reader = ComposeReader(adapter.cli, engine)  # None: the CLI path, whatever daemon this machine has
    adapter.cli.cache_dir = None  # every run asks, whatever compose this machine has
    return adapter, module


def _adapter(tmp_path, **kwargs):
    return _adapter_and_module(tmp_path, **kwargs)[0]


@pytest.mark.parametrize('version', ['2.40.3', '2.20.3'])
def test_services_state_from_recorded_output(tmp_path, version):
    adapter, module = _adapter_and_module(tmp_path, version)
    state = dict((s['name'], s) for s in adapter.services())
    assert sorted(state) == ['backend', 'frontend', 'postgres', 'redis']
    assert all(s['ok'] for s in state.values())
    backend = state['backend']['replicas'][0]
    assert backend['name'] == 'quickbite-backend-1' and backend['image'] == 'quickbite/backend:1.0'
    assert backend['health'] == 'healthy' and backend['ready']
    ps = [c for c in module.calls if 'ps' in c][0]
    assert ps[:4] == ['/usr/bin/docker', 'compose', '--project-directory', str(tmp_path)]
    assert ['--env-file', str(tmp_path / '.env.prod')] == ps[6:8] and ['-p', 'quickbite'] == ps[8:10]
    inspect = [c for c in module.calls if c[1] == 'inspect'][0]
    assert inspect[2] == '--format', 'full inspect output would carry Config.Env (secrets)'


def test_exited_and_restarting_containers_are_not_ready(tmp_path):
    rows = [json.loads(line) for line in _read('2.40.3', 'inspect.json').splitlines()]
    for row in rows:
        if row['Name'].endswith('redis-1'):
            row['State'].update(Status='exited', Running=False, ExitCode=137)
            row['State'].pop('Health', None)
        if row['Name'].endswith('backend-1'):
            row['State'].update(Restarting=True)
            row['RestartCount'] = 4
    adapter = _adapter(tmp_path, inspect='\n'.join(json.dumps(r) for r in rows))
    state = dict((s['name'], s) for s in adapter.services())
    assert state['redis']['problems'] == ['quickbite-redis-1 is exited (exit code 137), restarts 0']
    assert state['backend']['problems'] == ['quickbite-backend-1 is restarting, restarts 4']
    assert state['postgres']['ok'] and state['frontend']['ok']


def test_unknown_service_is_named(tmp_path):
    adapter = _adapter(tmp_path)
    with pytest.raises(NotFoundError, match='unknown service.*worker.*defines postgres, redis, backend, frontend'):
        adapter.services(['worker'])


def test_logs_grouped_by_container(tmp_path):
    adapter = _adapter(tmp_path)
    entries = dict((e['source'], e['lines']) for e in adapter.logs('redis', tail=3))
    assert sorted(entries) == ['backend-1', 'postgres-1', 'quickbite-frontend', 'redis-1']
    assert entries['redis-1'][-1].endswith('Ready to accept connections')


def test_get_config_reads_env_file(tmp_path):
    adapter = _adapter(tmp_path)
    assert adapter.get_config('DB_PASSWORD') == 'pw' and adapter.get_config('MISSING') is None


def test_old_compose_is_refused(tmp_path):
    adapter = _adapter(tmp_path, compose_version='v2.12.2')
    with pytest.raises(PlatformError, match='2.12.2 is too old; 2.20.0 or newer'):
        adapter.services()


def test_parsers():
    assert parse_json_stream('') == []
    assert parse_json_stream('[{"a": 1}]') == [{'a': 1}]
    assert parse_json_stream('{"a": 1}\n{"a": 2}\n') == [{'a': 1}, {'a': 2}]
    assert parse_version('Docker Compose version v2.40.3') == (2, 40, 3)
    assert parse_version('garbage') is None


def test_health_view_inspects_only_unhealthy_containers(tmp_path):
    rows = [json.loads(line) for line in _read('2.40.3', 'ps.json').splitlines() if line.strip()]
    for row in rows:
        if row['Service'] == 'redis':
            row.update(State='exited', Health='', ExitCode=0)
    redis_id = [r['ID'] for r in rows if r['Service'] == 'redis'][0]
    inspected = [json.loads(line) for line in _read('2.40.3', 'inspect.json').splitlines()
                 if json.loads(line)['Id'].startswith(redis_id)]
    inspected[0]['State'].update(Status='exited', Running=False, ExitCode=0)
    adapter, module = _adapter_and_module(tmp_path, inspect='\n'.join(json.dumps(i) for i in inspected))
    module.replies[1] = (('ps', '--all', '--format', 'json'), (0, '\n'.join(json.dumps(r) for r in rows), ''))
    state = dict((s['name'], s) for s in adapter.services(detail=False))
    inspect = [c for c in module.calls if c[1] == 'inspect'][0]
    assert inspect[4:] == [redis_id]
    assert state['backend']['ok'] and state['backend']['replicas'][0]['name'] == 'quickbite-backend-1'
    assert state['redis']['problems'] == ['quickbite-redis-1 is exited (exit code 0), restarts 0']


def _fake_binaries(tmp_path, monkeypatch):
    """A docker CLI and a compose plugin of our own, where the CLI looks for plugins."""
    config = tmp_path / 'docker-config'
    (config / 'cli-plugins').mkdir(parents=True)
    plugin = config / 'cli-plugins' / 'docker-compose'
    plugin.write_text('compose 2.40.3')
    docker = tmp_path / 'docker'
    docker.write_text('docker')
    monkeypatch.setenv('DOCKER_CONFIG', str(config))
    return str(docker), plugin


def test_a_passed_version_check_is_remembered_for_the_same_binaries(tmp_path, monkeypatch):
    docker, plugin = _fake_binaries(tmp_path, monkeypatch)
    module = _adapter_and_module(tmp_path)[1]
    cache = str(tmp_path / '.quickbite-ops' / 'compose-version.json')

    def version_checks_after_a_new_run():
        cli = compose.ComposeAdapter(module, dict(project_dir=str(tmp_path), compose_files=['docker-compose.prod.yml'],
                                                  env_file='.env.prod', project_name='quickbite')).cli
        assert os.path.join(cli.cache_dir, 'compose-version.json') == cache
        cli.docker = docker
        cli.preflight()
        assert cli.version == '2.40.3'
        return len([c for c in module.calls if c[-2:] == ['version', '--short']])
    assert version_checks_after_a_new_run() == 1
    assert oct(os.stat(cache).st_mode & 0o777) == '0o600'
    assert version_checks_after_a_new_run() == 1, 'same binaries: no second check'
    plugin.write_text('compose 2.41.0, a new build')  # an upgrade: checked again
    assert version_checks_after_a_new_run() == 2
    module.check_mode = True  # check mode reads the cache but never writes it
    plugin.write_text('compose 2.41.1')
    assert version_checks_after_a_new_run() == 3 and version_checks_after_a_new_run() == 4


def test_a_refused_version_is_never_remembered(tmp_path, monkeypatch):
    docker = _fake_binaries(tmp_path, monkeypatch)[0]
    adapter = _adapter(tmp_path, compose_version='v2.12.2')
    adapter.cli.docker, adapter.cli.cache_dir = docker, str(tmp_path)
    with pytest.raises(PlatformError, match='too old'):
        adapter.cli.preflight()
    assert not os.path.exists(str(tmp_path / 'compose-version.json'))


def test_no_plugin_where_the_cli_looks_no_cache(tmp_path):
    from ansible_collections.quickbite.ops.plugins.module_utils.platform import _compose_cli
    env = {'DOCKER_CONFIG': str(tmp_path)}
    (tmp_path / 'docker').write_text('docker')
    key = _compose_cli.binaries_key(str(tmp_path / 'docker'), env)
    if any(os.path.exists(os.path.join(d, 'docker-compose')) for d in _compose_cli.SYSTEM_PLUGIN_DIRS):
        assert key  # this machine has a system-wide plugin
    else:
        assert key is None
    assert _compose_cli.binaries_key(str(tmp_path / 'no-docker'), env) is None


def test_the_service_list_is_remembered_while_the_compose_files_stay_the_same(tmp_path, monkeypatch):
    docker = _fake_binaries(tmp_path, monkeypatch)[0]
    module = _adapter_and_module(tmp_path)[1]

    def config_calls_after_a_new_run():
        cli = compose.ComposeAdapter(module, dict(project_dir=str(tmp_path), compose_files=['docker-compose.prod.yml'],
                                                  env_file='.env.prod', project_name='quickbite')).cli
        cli.docker = docker
        assert cli.services() == ['postgres', 'redis', 'backend', 'frontend']
        return len([c for c in module.calls if c[-2:] == ['config', '--services']])
    assert config_calls_after_a_new_run() == 1
    assert config_calls_after_a_new_run() == 1, 'same files, same binaries: not asked again'
    (tmp_path / 'docker-compose.prod.yml').write_text('name: quickbite\nservices: {}\n')
    assert config_calls_after_a_new_run() == 2
    assert config_calls_after_a_new_run() == 2
    # Files that bring in other inputs decide nothing alone: asked every run.
    for text in ('include:\n  - other.yml\n', 'services:\n  worker:\n    profiles: [jobs]\n',
                 'services:\n  web:\n    extends:\n      file: base.yml\n      service: web\n'):
        (tmp_path / 'docker-compose.prod.yml').write_text(text)
        before = config_calls_after_a_new_run()
        assert config_calls_after_a_new_run() == before + 1
