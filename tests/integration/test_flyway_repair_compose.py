"""flyway_repair on the real Compose stack and PostgreSQL 15: a migration
fails, the backend records it in flyway_schema_history and then refuses to
start; after the operator fixes the migration, the playbook backs the
history up, deletes the failed row, restarts the backend, which retries the
migration, and the health check passes. Every claim is checked with psycopg2,
docker inspect and the actuator, not from the playbook's word."""
import json
import os
import subprocess
import time
import urllib.request

import psycopg2
import pytest
from psycopg2 import sql

from conftest import BACKEND_URL, PG_PORT, ROOT, compose, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]

SCRIPT = 'V900__add_loyalty_points.sql'
BROKEN = 'CREATE TABLE flyway_repair_loyalty (user_id BIGINT PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x INT;\n'
FIXED = 'CREATE TABLE flyway_repair_loyalty (user_id BIGINT PRIMARY KEY, points INT NOT NULL DEFAULT 0);\n'
EXTRA_KEY = 'QUICKBITE_EXTRA_MIGRATIONS_DIR'


def _sql(stack, query, args=()):
    conn = psycopg2.connect(host='127.0.0.1', port=PG_PORT, dbname=stack['env']['DB_NAME'], user=stack['env']['DB_USER'],
                            password=stack['env']['DB_PASSWORD'], connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _history(stack, table='flyway_schema_history'):
    return _sql(stack, sql.SQL('SELECT version, description, success FROM {} ORDER BY installed_rank').format(
        sql.Identifier(table)))


def _backups(stack):
    return set(r[0] for r in _sql(stack, "SELECT tablename FROM pg_tables WHERE tablename LIKE %s",
                                  ('flyway\\_schema\\_history\\_backup\\_%',)))


def _set_env(stack, key, value):
    path = os.path.join(stack['dir'], '.env.prod')
    with open(path) as handle:
        lines = [line for line in handle if not line.startswith(key + '=')]
    if value is not None:
        lines.append('%s=%s\n' % (key, value))
    with open(path, 'w') as handle:
        handle.writelines(lines)


def _backend():
    ids = compose('ps', '--all', '-q', 'backend').stdout.split()
    info = json.loads(subprocess.run(['docker', 'inspect'] + ids, check=True, capture_output=True, text=True).stdout)[0]
    return dict(status=info['State']['Status'], health=(info['State'].get('Health') or {}).get('Status'),
                restarts=info['RestartCount'], started=info['State']['StartedAt'])


def _actuator():
    try:
        with urllib.request.urlopen(BACKEND_URL + '/actuator/health', timeout=3) as response:
            return response.status, json.loads(response.read())['status']
    except Exception as exc:  # refused while the backend is down
        return None, str(exc)


def _refusals():
    """How many starts of the backend container refused because of the failed V900."""
    return compose('logs', '--no-log-prefix', 'backend').stdout.count(
        'Detected failed migration to version 900 (add loyalty points)')


def _wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


@pytest.fixture
def broken_backend(stack, demo_vars, tmp_path):
    """A backend that ran a broken V900 migration: Flyway left a failed row
    and every start since refuses ("Detected failed migration"). Whatever the
    test does, the stack ends healthy without V900, its table or backups."""
    path = os.path.join(stack['dir'], 'migrations-extra', SCRIPT)
    backups = _backups(stack)
    try:
        with open(path, 'w') as handle:
            handle.write(BROKEN)
        os.chmod(path, 0o644)
        _set_env(stack, EXTRA_KEY, '/opt/quickbite/extra-migrations')
        compose('up', '-d', '--no-deps', '--force-recreate', 'backend')
        assert _wait_for(lambda: ('900', 'add loyalty points', False) in _history(stack)), _history(stack)
        assert _wait_for(lambda: 'Detected failed migration to version 900 (add loyalty points)'
                         in compose('logs', '--no-log-prefix', 'backend').stdout), compose('logs', 'backend').stdout
        # Nothing of the broken migration stayed (it ran in one transaction).
        assert _sql(stack, "SELECT to_regclass('flyway_repair_loyalty')") == [(None,)]
        yield path
    finally:
        _set_env(stack, EXTRA_KEY, None)
        if os.path.exists(path):
            os.unlink(path)
        for name in _backups(stack) - backups:
            _sql(stack, sql.SQL('DROP TABLE {}').format(sql.Identifier(name)))
        _sql(stack, 'DROP TABLE IF EXISTS flyway_repair_loyalty')
        _sql(stack, "DELETE FROM flyway_schema_history WHERE version = '900'")
        run = run_playbook('restart.yml', extra=dict(demo_vars, restart_mode='recreate'), tmp_path=tmp_path)
        assert run.rc == 0, run.output[-3000:]


def test_failed_migration_repaired_backend_retries_and_is_healthy(stack, demo_vars, broken_backend, tmp_path):
    # The operator fixes the migration, but the failed row still keeps the backend down.
    with open(broken_backend, 'w') as handle:
        handle.write(FIXED)
    refusals = _refusals()
    compose('restart', 'backend')
    # The restarted backend read the fixed script and still refused (one more refusal logged).
    assert _wait_for(lambda: _refusals() > refusals), compose('logs', 'backend').stdout
    state = _backend()
    assert state['health'] != 'healthy' and _actuator()[0] is None, (state, _actuator())
    before, backups = _history(stack), _backups(stack)
    assert before[-1] == ('900', 'add loyalty points', False)

    dirs = [os.path.join(ROOT, 'stack', 'backend', 'db', 'migration'), os.path.join(stack['dir'], 'migrations-extra')]
    extra = dict(demo_vars, flyway_repair_state='repair', flyway_repair_migrations_dir=dirs,
                 flyway_repair_wait_timeout=90)

    # Check mode: lists the row it would delete, changes nothing.
    run = run_playbook('flyway_repair.yml', extra=extra, check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('flyway_repair')
    assert result['changed'] and [(r['version'], r['success']) for r in result['deleted']] == [('900', False)]
    assert any(line.startswith('would copy flyway_schema_history to flyway_schema_history_backup_')
               and line.endswith('delete 1 failed row(s): 900 (add loyalty points)') for line in result['report_lines'])
    assert ' 900     | add loyalty points     | f' in result['report_lines']
    assert _history(stack) == before and _backups(stack) == backups and _actuator()[0] is None

    assert any('refusing to repair flyway_schema_history in database quickbite' in w for w in result['warnings'])

    # A repair without the confirmation is refused by the module itself before anything runs.
    run = run_playbook('flyway_repair.yml', extra=extra, tmp_path=tmp_path)
    refused = run.result('flyway_repair')
    assert run.rc != 0 and not refused.get('changed')
    assert 'set flyway_repair_confirm (module option confirm) to quickbite' in refused['msg']
    assert refused['msg'].endswith('Nothing was changed.')
    assert _history(stack) == before and _backups(stack) == backups and _actuator()[0] is None

    # Confirmed: backup, delete, restart, health.
    started = time.time()
    run = run_playbook('flyway_repair.yml', extra=dict(extra, flyway_repair_confirm='quickbite'), verbosity=1,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-4000:]
    elapsed = time.time() - started
    result = run.result('flyway_repair')
    new = _backups(stack) - backups
    assert result['changed'] and new == {result['backup_table']}
    assert _history(stack, result['backup_table']) == before  # the copy holds every old row, the failed one too
    assert [f['version'] for f in result['pending']] == ['900'] and result['mismatches'] == []
    assert 'pending: 900 (add loyalty points), failed before' in result['report_lines']
    assert [c['check'] for c in result['checks'] if c['ok']] == ['health actuator', 'health platform']
    assert 'is not undone by deleting its history row' in run.output  # the partial-DDL warning
    # Independently: the backend retried V900, which now succeeded, and it is healthy.
    assert _history(stack) == before[:-1] + [('900', 'add loyalty points', True)]
    assert _sql(stack, "SELECT to_regclass('flyway_repair_loyalty') IS NOT NULL") == [(True,)]
    assert _actuator() == (200, 'UP') and _backend()['health'] == 'healthy'
    print('repair run: %.1f s' % elapsed)

    # Second run: nothing failed, nothing to do.
    run = run_playbook('flyway_repair.yml', extra=dict(extra, flyway_repair_confirm='quickbite'), tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('flyway_repair')
    assert not result['changed'] and result['deleted'] == [] and result['backup_table'] is None
    assert result['report_lines'][-1] == 'no failed migration: nothing to repair' and result['pending'] == []
    assert _backups(stack) == backups | new


def test_migration_still_broken_fails_after_the_repair_with_evidence(stack, demo_vars, broken_backend, tmp_path):
    before, backups = _history(stack), _backups(stack)
    run = run_playbook('flyway_repair.yml', tmp_path=tmp_path, extra=dict(
        demo_vars, flyway_repair_state='repair', flyway_repair_confirm='quickbite', flyway_repair_wait_timeout=15))
    assert run.rc != 0
    new = _backups(stack) - backups
    assert len(new) == 1 and _history(stack, new.pop()) == before  # the repair itself was done and kept
    # The module's message itself, not the callback's YAML of it, which folds long lines where the
    # backend's log lines make it quote the string.
    msg = run.result('flyway_repair')['msg']
    assert msg.startswith('flyway_schema_history repaired (backup in flyway_schema_history_backup_'), msg
    assert 'but the backend did not come back; what the failed migration did before it failed was not undone' in msg
    assert 'backend did not become ready within 15 s' in msg and 'last log lines of backend' in msg
    # The backend retried the still broken migration and recorded a new failure.
    assert _history(stack)[-1] == ('900', 'add loyalty points', False)


def test_report_is_the_default_and_changes_nothing(stack, demo_vars, tmp_path):
    before, backups = _history(stack), _backups(stack)
    run = run_playbook('flyway_repair.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('flyway_repair')
    assert not result['changed'] and result['pending'] is None
    assert [(r['version'], r['description'], r['success']) for r in result['history']] == before
    assert any(line.startswith('pending: unknown') for line in result['report_lines'])
    assert _history(stack) == before and _backups(stack) == backups


def test_missing_history_table_fails_clearly(stack, demo_vars, tmp_path):
    run = run_playbook('flyway_repair.yml', extra=dict(demo_vars, quickbite_db_name='postgres'), tmp_path=tmp_path)
    assert run.rc != 0
    assert 'table flyway_schema_history not found in quickbite@127.0.0.1:%d/postgres' % PG_PORT in run.output
    assert 'check quickbite_db_name' in run.output
