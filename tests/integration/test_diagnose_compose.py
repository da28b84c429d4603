"""Issue 14 items 1 and 3 on the real reference stack (Docker Compose): each
fault is induced for real, playbooks/diagnose.yml names it with its evidence,
the playbook the finding names repairs it where the runbook has a fix, and
the stack is healthy again. Every test puts the stack back in a finally
(the env file byte for byte, the backend recreated, PostgreSQL started, the
backend's switches off); the `stack` fixture holds the stack lock."""
import json
import os
import re
import subprocess
import time
import urllib.request

import pytest

from conftest import STACK_DIR, backend_health, compose, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]

SECTION = "Backend won't start - connection refused"
BACKEND = 'http://127.0.0.1:18080'


def _env_path(stack):
    return os.path.join(stack['dir'], '.env.prod')


def _read(stack):
    with open(_env_path(stack), 'rb') as handle:
        return handle.read()


def _write(stack, data):
    # In place: the file keeps its inode, mode (0600) and owner.
    with open(_env_path(stack), 'wb') as handle:
        handle.write(data)


def _with_value(raw, key, value):
    text, count = re.subn(r'(?m)^%s=.*$' % re.escape(key), '%s=%s' % (key, value), raw.decode('utf-8'))
    assert count == 1, key
    return text.encode('utf-8')


def _wait(condition, timeout, what):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, 'timed out after %s s waiting for %s' % (timeout, what)
        time.sleep(0.2)


def _backends():
    out = subprocess.run(['docker', 'compose', '-p', 'quickbite', 'ps', '-q', 'backend'], check=True,
                         capture_output=True, text=True).stdout.split()
    return len(out)


def _recreate_backend():
    compose('up', '-d', '--no-deps', '--force-recreate', 'backend')


def _running(service):
    out = subprocess.run(['docker', 'compose', '-p', 'quickbite', 'ps', '--status', 'running', '-q', service],
                         check=True, capture_output=True, text=True).stdout
    return bool(out.strip())


@pytest.fixture
def healthy(stack):
    """The stack as every test here must leave it: the env file as it was,
    PostgreSQL running, the backend answering UP (recreated from the env file
    when it does not), its switches off."""
    raw = _read(stack)
    assert _backends() == 1, 'these tests expect one backend replica (the webhook switch is per process)'
    yield raw
    if _read(stack) != raw:
        _write(stack, raw)
    if not _running('postgres'):
        compose('start', 'postgres')
    if backend_health() != 'UP':
        _wait(lambda: backend_health() == 'UP', 20, 'the backend to recover by itself')
    try:
        urllib.request.urlopen(urllib.request.Request(BACKEND + '/actuator/faults', method='POST', data=json.dumps(
            {'webhook_parsed_json': False}).encode(), headers={'Content-Type': 'application/json'}), timeout=3)
    except OSError:
        pass
    assert _read(stack) == raw and backend_health() == 'UP'


def _induce_backend_env(stack, raw, key, value):
    """Recreate the backend with ``key=value``, then put the env file back:
    the running backend keeps the wrong value (the state a fix must repair)."""
    try:
        _write(stack, _with_value(raw, key, value))
        _recreate_backend()
    finally:
        _write(stack, raw)


def _repair_backend_if_needed():
    if backend_health() != 'UP':
        _recreate_backend()
        _wait(lambda: backend_health() == 'UP', 60, 'the recreated backend to answer UP')


def _diagnose(demo_vars, tmp_path, **extra):
    run = run_playbook('diagnose.yml', extra=dict(demo_vars, **extra), tmp_path=tmp_path)
    return run, run.result('diagnose')


def _fixed_by(demo_vars, tmp_path, **restart):
    """The restart playbook as the finding names it repairs the fault: it
    ends healthy, and the diagnosis is clean after."""
    fix = run_playbook('restart.yml', extra=dict(demo_vars, **restart), tmp_path=tmp_path)
    assert fix.rc == 0, fix.output[-3000:]
    again, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['connection_refused'])
    assert again.rc == 0 and result['problems'] == [], again.output[-3000:]
    assert backend_health() == 'UP'


def _secrets(stack, *more):
    values = [v for k, v in stack['env'].items() if any(w in k for w in ('SECRET', 'PASSWORD', 'TOKEN', 'KEY'))]
    return [v for v in values + list(more) if v and len(v) >= 4]


def test_healthy_stack_every_check_ok_the_tcp_connect_runs_in_the_backend(stack, demo_vars, healthy, tmp_path):
    run, result = _diagnose(demo_vars, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert result['problems'] == [] and {'connection_refused', 'webhook'} <= set(result['checks'])
    mine = [f for f in result['findings'] if f['check'] in ('connection_refused', 'webhook')]
    assert [f['status'] for f in mine] == ['OK'] * 6 + ['SKIPPED'], [f['line'] for f in mine]
    address = mine[1]['evidence']
    assert address['address'] == '127.0.0.1:15432' and '127.0.0.1:15432' in address['reached_as']
    # Read from the running container (the Engine's Config.Env), the password only as a fingerprint.
    assert address['backend_env']['DB_PORT'] == {'value': '15432',
                                                 'origin': 'container environment (Engine Config.Env)'}
    assert address['backend_env']['DB_PASSWORD']['value'].startswith('******** (fingerprint ')
    tcp = mine[3]['evidence']
    assert tcp['program'] == 'python3' and tcp['exit_code'] == 0 and tcp['output'].startswith('connected in')
    assert mine[5]['evidence']['reserialized_status'] == 200
    assert any(line.startswith('%s: OK - TCP connect from inside backend to 127.0.0.1:15432: connected in' % SECTION)
               for line in result['report_lines']), result['report_lines']
    for secret in _secrets(stack):
        assert secret not in run.output
    assert run.rc == 0 and backend_health() == 'UP'


def test_backend_started_with_a_wrong_database_port_is_named_and_recreating_it_fixes_it(
        stack, demo_vars, healthy, tmp_path):
    raw = healthy
    try:
        _induce_backend_env(stack, raw, 'DB_PORT', '15433')
        run, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['connection_refused'])
        assert run.rc != 0, run.output[-3000:]
        address = result['findings'][1]
        assert address['status'] == 'PROBLEM', [f['line'] for f in result['findings']]
        assert address['evidence']['address'] == '127.0.0.1:15433'
        assert address['evidence']['differs_from_configuration'] == ['DB_PORT']
        assert address['fix'] == 'restart' and 'restart_mode=recreate' in address['fix_note']
        assert ('connects to 127.0.0.1:15433 but PostgreSQL (postgres) listens on port 15432, reached as '
                '127.0.0.1:15432') in address['line']
        tcp = result['findings'][3]
        assert tcp['status'] == 'PROBLEM' and tcp['evidence']['program'] == 'python3', tcp
        assert 'Connection refused' in tcp['evidence']['output'], tcp
        assert result['findings'][4]['status'] == 'PROBLEM' and result['findings'][4]['evidence']['cause'] == 'refused'
        assert address['line'].endswith(' -> run playbooks/restart.yml (%s)' % address['fix_note'])
        _fixed_by(demo_vars, tmp_path, restart_services=['backend'], restart_mode='recreate')
    finally:
        _write(stack, raw)
        _repair_backend_if_needed()


def test_backend_started_with_a_wrong_database_password_is_named_by_fingerprint_and_recreating_it_fixes_it(
        stack, demo_vars, healthy, tmp_path):
    raw = healthy
    wrong = 'not-the-password-0123456789'
    try:
        _induce_backend_env(stack, raw, 'DB_PASSWORD', wrong)
        run, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['connection_refused'])
        assert run.rc != 0, run.output[-3000:]
        statuses = [f['status'] for f in result['findings']]
        assert statuses == ['OK', 'OK', 'PROBLEM', 'OK', 'PROBLEM'], [f['line'] for f in result['findings']]
        login = result['findings'][2]
        assert login['fix'] == 'restart' and 'are refused: password authentication failed' in login['summary']
        assert login['evidence']['password_fingerprint'] != login['evidence']['configured_fingerprint']
        assert result['findings'][4]['evidence']['cause'] == 'password'
        for secret in _secrets(stack, wrong):
            assert secret not in run.output
        _fixed_by(demo_vars, tmp_path, restart_services=['backend'], restart_mode='recreate')
    finally:
        _write(stack, raw)
        _repair_backend_if_needed()


def test_database_stopped_is_named_and_the_restart_playbook_starts_it(stack, demo_vars, healthy, tmp_path):
    compose('stop', 'postgres')
    try:
        run, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['connection_refused'], diagnose_fail=False)
        assert run.rc == 0, run.output[-3000:]  # diagnose_fail=false: report only
        first = result['findings'][0]
        assert first['status'] == 'PROBLEM' and first['fix'] == 'restart', first
        assert 'database service postgres is not running and ready (quickbite-postgres-1 is exited' in first['summary']
        assert '"restart_services": ["postgres"]' in first['fix_note']
        tcp = [f for f in result['findings'] if f['evidence'].get('program')][0]
        assert tcp['status'] == 'PROBLEM' and 'Connection refused' in tcp['evidence']['output'], tcp
        assert result['problems'] and first['line'] in result['report_lines']
        _fixed_by(demo_vars, tmp_path, restart_services=['postgres'])
    finally:
        if not _running('postgres'):
            compose('start', 'postgres')
        _wait(lambda: backend_health() == 'UP', 60, 'the backend to answer UP with PostgreSQL back')


def _switch(name, value):
    request = urllib.request.Request(BACKEND + '/actuator/faults', method='POST', data=json.dumps(
        {name: value}).encode(), headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read().decode())[name] == value


def test_webhook_verified_over_re_serialized_json_is_told_from_raw_body_and_secrets_by_fingerprint(
        stack, demo_vars, healthy, tmp_path):
    dashboard = 'whsec-from-the-dashboard-0123456789'
    _switch('webhook_parsed_json', True)
    try:
        run, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['webhook'],
                                diagnose_webhook_dashboard_secret=dashboard)
    finally:
        _switch('webhook_parsed_json', False)
    assert run.rc != 0, run.output[-3000:]
    verification, secret = result['findings']
    assert verification['status'] == 'PROBLEM' and verification['fix'] is None, verification
    assert verification['evidence']['signed_status'] == 200 and verification['evidence']['wrongly_signed_status'] == 400
    assert verification['evidence']['reserialized_status'] == 400
    assert 'verifies the signature over JSON it parsed and serialized again, not over the raw body' in verification['line']
    assert 'raw body, not parsed JSON' in verification['fix_note']
    assert secret['status'] == 'PROBLEM' and secret['fix'] == 'rotate_webhook_secret', secret
    assert secret['evidence']['configured_fingerprint'] == verification['evidence']['running_fingerprint']
    assert secret['evidence']['dashboard_fingerprint'] != secret['evidence']['configured_fingerprint']
    for value in _secrets(stack, dashboard):
        assert value not in run.output
    again, result = _diagnose(demo_vars, tmp_path, diagnose_checks=['webhook'])
    assert again.rc == 0 and result['findings'][0]['status'] == 'OK', again.output[-3000:]
    assert 'the backend verifies the signature over the raw body' in result['findings'][0]['summary']
    assert STACK_DIR and backend_health() == 'UP'
