"""Database password rotation on the real Compose stack and PostgreSQL 15."""
import json
import os
import subprocess

import pytest

from conftest import kill_at_phase, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def _env(stack):
    with open(os.path.join(stack['dir'], '.env.prod'), 'rb') as handle:
        raw = handle.read()
    return raw, dict(line.split('=', 1) for line in raw.decode().splitlines() if '=' in line and not line.startswith('#'))


def _login(user, password, db='quickbite'):
    return subprocess.run(['psql', '-h', '127.0.0.1', '-p', '15432', '-U', user, '-d', db, '-tAc', 'SELECT 1'],
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')).returncode == 0


def test_rotation_changes_role_and_config_and_is_verified(stack, demo_vars, tmp_path):
    raw, values = _env(stack)
    old = values['DB_PASSWORD']
    audit = str(tmp_path / 'rotation.log')
    extra = dict(demo_vars, rotate_db_password_audit_log=audit, rotate_db_password_wait_timeout=120)
    run = run_playbook('rotate_db_password.yml', extra=extra, check=True, tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw and _login('quickbite', old)

    run = run_playbook('rotate_db_password.yml', extra=extra, verbosity=3, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    new = _env(stack)[1]['DB_PASSWORD']
    assert new != old and _login('quickbite', new) and not _login('quickbite', old)
    stored = subprocess.run(['psql', '-h', '127.0.0.1', '-p', '15432', '-U', 'postgres', '-d', 'postgres', '-tAc',
                             "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'quickbite'"],
                            capture_output=True, text=True, check=True,
                            env=dict(os.environ, PGPASSWORD=values['POSTGRES_PASSWORD'])).stdout.strip()
    assert stored == 'SCRAM-SHA-256$'
    checks = dict((c['check'], c['ok']) for c in run.result('db_password_rotate')['checks'])
    assert checks == {'health actuator': True, 'health platform': True, 'login with the new password': True,
                      'login with the old password refused': True}
    everything = run.output + json.dumps(run.records) + open(audit).read()
    assert new not in everything and old not in everything and values['POSTGRES_PASSWORD'] not in everything

    # Back to the original, so the rest of the suite and the demo keep their settings.
    run = run_playbook('rotate_db_password.yml', extra=dict(extra, rotate_db_password_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw and _login('quickbite', old)


def test_wrong_admin_password_changes_nothing(stack, demo_vars, tmp_path):
    raw, values = _env(stack)
    run = run_playbook('rotate_db_password.yml', tmp_path=tmp_path, extra=dict(
        demo_vars, quickbite_db_admin_password='not-the-admin-password', rotate_db_password_wait_timeout=60,
        rotate_db_password_audit_log=str(tmp_path / 'rotation.log')))
    assert run.rc != 0 and 'rotation of DB_PASSWORD stopped before changing anything' in run.output
    assert 'check the admin user and its password' in run.output
    assert _env(stack)[0] == raw and _login('quickbite', values['DB_PASSWORD'])


def _rolpassword(values):
    """The server's own record of the role's password (a new salt on every ALTER ROLE)."""
    return subprocess.run(['psql', '-h', '127.0.0.1', '-p', '15432', '-U', 'postgres', '-d', 'postgres', '-tAc',
                           "SELECT rolpassword FROM pg_authid WHERE rolname = 'quickbite'"],
                          capture_output=True, text=True, check=True,
                          env=dict(os.environ, PGPASSWORD=values['POSTGRES_PASSWORD'])).stdout.strip()


def test_a_password_the_env_file_cannot_hold_is_refused_before_alter_role(stack, demo_vars, tmp_path):
    """Validated before the first change, in check mode as in a run: no ALTER
    ROLE (pg_authid unchanged), env file unchanged, nothing restarted."""
    raw, values = _env(stack)
    stored = _rolpassword(values)
    extra = dict(demo_vars, rotate_db_password_audit_log=str(tmp_path / 'rotation.log'),
                 rotate_db_password_wait_timeout=60, rotate_db_password_new='two\nlines')
    for check in (True, False):
        run = run_playbook('rotate_db_password.yml', extra=extra, check=check, tmp_path=tmp_path)
        result = run.result('db_password_rotate')
        assert run.rc != 0 and result['msg'].startswith(
            'refusing to write DB_PASSWORD to %s/.env.prod: the value contains a line break' % stack['dir']), result
        assert result['msg'].endswith('(the new value: rotate_db_password_new)') and not result.get('changed')
        assert _rolpassword(values) == stored and _env(stack)[0] == raw
    assert not os.path.exists(str(tmp_path / 'rotation.log')) or 'DB_PASSWORD' not in open(str(tmp_path / 'rotation.log')).read()


def test_killed_after_set_converges(stack, demo_vars, tmp_path):
    raw, values = _env(stack)
    old = values['DB_PASSWORD']
    pending = os.path.join(stack['dir'], '.quickbite-ops', 'DB_PASSWORD.pending.json')
    extra = dict(demo_vars, rotate_db_password_audit_log=str(tmp_path / 'a.log'), rotate_db_password_wait_timeout=120)
    assert kill_at_phase('rotate_db_password.yml', extra, pending, 'db_password_rotate')
    assert os.path.exists(pending)
    run = run_playbook('rotate_db_password.yml', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    new = _env(stack)[1]['DB_PASSWORD']
    assert not os.path.exists(pending) and new != old and _login('quickbite', new) and not _login('quickbite', old)
    run = run_playbook('rotate_db_password.yml', extra=dict(extra, rotate_db_password_new=old), tmp_path=tmp_path)
    assert run.rc == 0 and _env(stack)[0] == raw and _login('quickbite', old)
