"""Restart, scale and rollback playbooks on the real Compose stack. Every
claim is checked independently with docker inspect / HTTP."""
import json
import os
import subprocess
import urllib.request

import pytest

from conftest import BACKEND_URL, PG_PORT, REDIS_PORT, STACK_PROJECT, container, compose, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def _containers(service):
    out = compose('ps', '--all', '--format', '{{.Name}}', service).stdout.split()
    info = json.loads(subprocess.run(['docker', 'inspect'] + out, check=True, capture_output=True, text=True).stdout)
    return dict((i['Name'].lstrip('/'), dict(id=i['Id'], started=i['State']['StartedAt'], image=i['Config']['Image']))
                for i in info)


def _version():
    with urllib.request.urlopen(BACKEND_URL + '/actuator/info', timeout=5) as response:
        return json.loads(response.read())['app']['version']


def _set_env(stack, key, value):
    """Edit .env.prod in place like an operator's sed would: the key's line
    changes where it is (appended when new); value None removes the line."""
    path = os.path.join(stack['dir'], '.env.prod')
    with open(path) as handle:
        lines = handle.readlines()
    index = next((i for i, line in enumerate(lines) if line.startswith(key + '=')), None)
    if value is None:
        if index is not None:
            del lines[index]
    elif index is None:
        lines.append('%s=%s\n' % (key, value))
    else:
        lines[index] = '%s=%s\n' % (key, value)
    with open(path, 'w') as handle:
        handle.writelines(lines)


@pytest.fixture
def clean_backend(stack, demo_vars, tmp_path):
    """Whatever a test does, leave one healthy backend on the compose file's image."""
    yield
    _set_env(stack, 'BACKEND_TAG', None)
    _set_env(stack, 'QUICKBITE_EXTRA_MIGRATIONS_DIR', None)
    _set_env(stack, 'JWT_SECRET_PREVIOUS', '')
    for name in os.listdir(os.path.join(stack['dir'], 'migrations-extra')):
        os.unlink(os.path.join(stack['dir'], 'migrations-extra', name))
    run_playbook('rollback.yml', extra=dict(demo_vars, rollback_unpin=True), tmp_path=tmp_path)
    run = run_playbook('restart.yml', extra=dict(demo_vars, restart_mode='recreate'), tmp_path=tmp_path)
    assert run.rc == 0, run.output


def test_restart_check_mode_changes_nothing_then_restarts(demo_vars, tmp_path):
    before = _containers('backend')
    run = run_playbook('restart.yml', extra=demo_vars, check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('restart')['msg'] == 'would restart backend'
    assert _containers('backend') == before
    run = run_playbook('restart.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    after = _containers('backend')
    assert set(after) == set(before)
    for name in after:
        assert after[name]['id'] == before[name]['id'] and after[name]['started'] != before[name]['started']
    # The health check now runs inside the restart task; its report comes with the result.
    health = run.result('restart')['health']
    assert health['status'] == 'UP' and sorted(health['checks']) == ['actuator', 'db', 'frontend', 'platform', 'redis']


def test_changed_env_file_recreates_the_backend(stack, demo_vars, tmp_path, clean_backend):
    before = _containers('backend')
    _set_env(stack, 'JWT_SECRET_PREVIOUS', 'ab' * 32)  # 256 bits, as the backend requires
    run = run_playbook('restart.yml', extra=demo_vars, check=True, tmp_path=tmp_path)
    assert run.result('restart')['msg'] == 'would recreate backend'
    assert _containers('backend') == before
    run = run_playbook('restart.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('restart')['msg'] == 'done: recreate backend'
    assert set(c['id'] for c in _containers('backend').values()).isdisjoint(c['id'] for c in before.values())


def test_full_stack_restart_is_down_then_up(demo_vars, tmp_path):
    before = dict((s, _containers(s)) for s in ('postgres', 'redis', 'backend', 'frontend'))
    # Without the project name as confirmation the module refuses and touches nothing.
    run = run_playbook('restart.yml', extra=dict(demo_vars, restart_all=True, restart_confirm='quickbite_prod'),
                       tmp_path=tmp_path)
    refused = run.result('restart')
    assert run.rc != 0 and not refused.get('changed'), run.output
    assert 'set restart_confirm (module option confirm) to %s, the project name' % STACK_PROJECT in refused['msg']
    assert "(it is now 'quickbite_prod')" in refused['msg'] and refused['msg'].endswith('Nothing was changed.')
    assert dict((s, _containers(s)) for s in before) == before
    run = run_playbook('restart.yml', extra=dict(demo_vars, restart_all=True, restart_confirm=STACK_PROJECT),
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output
    for service, containers in before.items():
        assert set(c['id'] for c in _containers(service).values()).isdisjoint(c['id'] for c in containers.values())
    assert run.result('restart')['health']['status'] == 'UP'


def test_force_kill_one_container(demo_vars, tmp_path):
    before = _containers('backend')
    name = sorted(before)[0]
    run = run_playbook('restart.yml', extra=dict(demo_vars, restart_pod=name), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    after = _containers('backend')
    assert len(after) == len(before) and after[name]['id'] != before[name]['id']


def test_scale_up_idempotent_and_back(demo_vars, tmp_path):
    run = run_playbook('scale.yml', extra=dict(demo_vars, scale_replicas=3), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert len(_containers('backend')) == 3
    assert run.result('scale')['msg'].startswith('scaled backend from 1 to 3 replica(s)')
    run = run_playbook('scale.yml', extra=dict(demo_vars, scale_replicas=3), tmp_path=tmp_path)
    assert run.rc == 0 and run.result('scale')['changed'] is False
    run = run_playbook('scale.yml', extra=dict(demo_vars, scale_replicas=1), check=True, tmp_path=tmp_path)
    assert run.result('scale')['msg'] == 'would scale backend from 3 to 1' and len(_containers('backend')) == 3
    run = run_playbook('scale.yml', extra=dict(demo_vars, scale_replicas=1), tmp_path=tmp_path)
    assert run.rc == 0 and len(_containers('backend')) == 1


@pytest.mark.parametrize('extra, message', [
    (dict(scale_service='postgres', scale_replicas=2),
     'refusing to scale postgres to 2 replicas: postgres is a stateful service'),
    (dict(scale_service='backend', scale_replicas=0),
     "refusing to scale backend from 1 to 0 replicas: that stops every backend replica and what depends on it; set "
     "scale_confirm (module option confirm) to backend, the service's name, to confirm (it is now empty)"),
])
def test_refused_scaling_changes_nothing(demo_vars, tmp_path, extra, message):
    before = dict((s, _containers(s)) for s in ('postgres', 'backend'))
    run = run_playbook('scale.yml', extra=dict(demo_vars, **extra), tmp_path=tmp_path)
    refused = run.result('scale')
    assert run.rc != 0 and not refused.get('changed'), run.output
    assert message in refused['msg'] and refused['msg'].endswith('Nothing was changed.')
    assert dict((s, _containers(s)) for s in before) == before


def test_rollback_and_rollback_of_rollback(stack, demo_vars, tmp_path, clean_backend):
    assert _version() == '1.0'
    _set_env(stack, 'BACKEND_TAG', '1.1')  # a deploy of 1.1, through the collection's restart
    run = run_playbook('restart.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert _version() == '1.1'

    run = run_playbook('rollback.yml', extra=demo_vars, check=True, tmp_path=tmp_path)
    assert 'would roll back backend from quickbite/backend:1.1' in run.result('rollback')['msg']
    assert 'to quickbite/backend:1.0' in run.result('rollback')['msg'] and _version() == '1.1'

    run = run_playbook('rollback.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    result = run.result('rollback')
    assert result['msg'].startswith('rolled back backend: quickbite/backend:1.1')
    assert result['after']['image'] == 'quickbite/backend:1.0' and _version() == '1.0'
    assert run.result('healthcheck')['status'] == 'UP'
    assert list(_containers('backend').values())[0]['image'] == 'quickbite/backend:1.0'

    run = run_playbook('rollback.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0 and _version() == '1.1'

    run = run_playbook('rollback.yml', extra=dict(demo_vars, rollback_to='quickbite/backend:9.9'), tmp_path=tmp_path)
    assert run.rc != 0 and 'no recorded image of backend to roll back to matching quickbite/backend:9.9' in run.output


def test_restart_that_never_becomes_healthy_fails_with_evidence(stack, demo_vars, tmp_path, clean_backend):
    path = os.path.join(stack['dir'], 'migrations-extra', 'V900__broken.sql')
    with open(path, 'w') as handle:
        handle.write('ALTER TABLE no_such_table ADD COLUMN x int;\n')
    _set_env(stack, 'QUICKBITE_EXTRA_MIGRATIONS_DIR', '/opt/quickbite/extra-migrations')
    try:
        run = run_playbook('restart.yml', extra=dict(demo_vars, restart_wait_timeout=8), tmp_path=tmp_path)
        assert run.rc != 0
        assert 'backend did not become ready within 8 s' in run.output
        assert '%s is' % container('backend') in run.output and 'last log lines of backend' in run.output
        assert 'Detected failed migration to version 900' in run.output  # what the backend logged
    finally:
        _set_env(stack, 'QUICKBITE_EXTRA_MIGRATIONS_DIR', None)
        os.unlink(path)
        subprocess.run(['psql', '-h', '127.0.0.1', '-p', str(PG_PORT), '-U', stack['env']['DB_USER'], '-d',
                        stack['env']['DB_NAME'], '-c', 'DELETE FROM flyway_schema_history WHERE NOT success'],
                       check=True, capture_output=True, env=dict(os.environ, PGPASSWORD=stack['env']['DB_PASSWORD']))


def test_restart_that_leaves_quickbite_unhealthy_fails_with_the_health_evidence(demo_vars, tmp_path):
    """The restarted service comes back, but QuickBite does not pass the health
    check afterwards (Redis is down): the restart task fails with each check's evidence."""
    before = _containers('frontend')
    compose('stop', 'redis')
    try:
        run = run_playbook('restart.yml', extra=dict(demo_vars, restart_services=['frontend'], restart_verify_timeout=2),
                           tmp_path=tmp_path)
        assert run.rc != 0
        assert 'done: restart frontend, but QuickBite is not healthy' in run.output
        assert '- redis: unable to connect to redis at 127.0.0.1:%d' % REDIS_PORT in run.output
        assert 'redis: %s is exited' % container('redis') in run.output and 'last log lines' in run.output
        after = _containers('frontend')
        assert [c['started'] for c in after.values()] != [c['started'] for c in before.values()]
    finally:
        compose('start', 'redis')
    run = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert run.rc == 0, run.output


@pytest.mark.parametrize('playbook, extra, message', [
    ('restart.yml', dict(restart_services=['worker']), 'unknown service(s) worker for restart_services'),
    ('scale.yml', dict(scale_replicas=-1), 'scale_replicas must be between 0 and 50, got -1'),
    ('scale.yml', dict(scale_replicas=51), 'scale_replicas must be between 0 and 50, got 51'),
    ('scale.yml', dict(scale_service='worker', scale_replicas=2), 'unknown service worker for scale_service'),
    ('rollback.yml', dict(rollback_service='worker'), 'unknown service worker for rollback_service'),
])
def test_bad_input_is_named(demo_vars, tmp_path, playbook, extra, message):
    run = run_playbook(playbook, extra=dict(demo_vars, **extra), tmp_path=tmp_path)
    assert run.rc != 0 and message in run.output
