"""pg_restore and verify_backup on the real Compose stack and PostgreSQL 15:
identical data after backup + restore, legacy backups, refusals that leave
the target untouched, rollback, safe mode, and the throw-away database."""
import gzip
import json
import os
import subprocess
import urllib.request

import pytest

from conftest import BACKEND_URL, PG_PORT, container, run_playbook
from dbtools import databases, digest, drop_db, psql, schema_dump, structure, take_backup

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def restore(demo_vars, dest, tmp_path, path, check=False, **extra):
    values = dict(demo_vars, restore_db_path=path, restore_db_confirm='quickbite', restore_db_backup_dir=dest)
    values.update(extra)
    return run_playbook('restore_db.yml', extra=values, check=check, tmp_path=tmp_path)


def backend_started_at():
    return subprocess.run(['docker', 'inspect', '--format', '{{.State.StartedAt}}', container('backend')],
                          capture_output=True, text=True, check=True).stdout.strip()


def change_data():
    psql("INSERT INTO orders (user_id, restaurant, total_amount) SELECT min(id), 'Restore Test Diner', 12.50 "
         'FROM users', db='quickbite')


@pytest.fixture
def clean_orders(stack):
    yield
    psql("DELETE FROM orders WHERE restaurant = 'Restore Test Diner'", db='quickbite')
    for name in databases():
        if name.startswith('quickbite_pre_restore_') or name.startswith('quickbite_restore_'):
            drop_db(name)


@pytest.mark.parametrize('fmt,comp', [('plain', 'zstd'), ('custom', 'zstd'), ('plain', 'gzip'), ('directory', 'gzip')])
def test_backup_then_restore_gives_identical_data(stack, clean_orders, demo_vars, dest, tmp_path, fmt, comp):
    before, indexes, schema = digest(), structure(), schema_dump()
    path = take_backup(demo_vars, dest, tmp_path, backup_db_format=fmt, backup_db_compression=comp)
    change_data()
    assert digest() != before
    run = restore(demo_vars, dest, tmp_path, path)
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before
    # every index and constraint back, the foreign keys validated (a plain dump's are built by the load)
    assert structure() == indexes and any(' f validated true: FOREIGN KEY' in line for line in indexes), indexes
    assert schema_dump() == schema  # keys built as unique indexes first (parallel_load) end as pg_dump wrote them
    if fmt == 'plain':  # the load vacuumed the tables of the foreign key (what that leaves: test_parallel_load_pg)
        assert psql("SELECT string_agg(relname || ' ' || vacuum_count, ',' ORDER BY relname) FROM pg_stat_user_tables "
                    "WHERE relname IN ('orders', 'users')", db='quickbite') == 'orders 1,users 1'
    result = run.result('pg_restore')
    steps = ' | '.join(result['steps'])
    assert 'stopped backend' in steps and 'started backend again' in steps and 'health check passed' in steps
    assert os.path.exists(result['pre_restore_backup'])
    assert all(check['ok'] for check in result['checks'])


def test_legacy_runbook_backup_restores(stack, clean_orders, demo_vars, dest, tmp_path):
    """A file made the way the runbook's backup-db.sh makes it: pg_dump | gzip, no sidecar, no manifest.
    Foreign (not made by pg_backup): refused without restore_db_allow_foreign_backup, loaded with it."""
    before = digest()
    os.makedirs(dest)
    legacy = os.path.join(dest, 'quickbite_20250101_120000.sql.gz')
    legacy_backup(stack, legacy)
    change_data()
    changed = digest()
    run = restore(demo_vars, dest, tmp_path, legacy)
    msg = run.result('pg_restore')['msg']
    assert run.rc != 0 and legacy in msg and 'no pg_backup manifest and sidecar' in msg, run.output[-3000:]
    assert 'restore_db_allow_foreign_backup=true' in msg and 'nothing was touched' in msg
    assert digest() == changed and not [n for n in os.listdir(dest) if 'pre-restore' in n]
    run = restore(demo_vars, dest, tmp_path, legacy, restore_db_allow_foreign_backup=True)
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before
    assert any('foreign backup accepted' in c['evidence'] for c in run.result('pg_restore')['checks'])
    verify = run_playbook('verify_backup.yml', extra=dict(demo_vars, verify_backup_path=legacy,
                                                          verify_backup_allow_foreign_backup=True), tmp_path=tmp_path)
    assert verify.rc == 0, verify.output[-3000:]
    assert any('row counts not compared' in line for line in verify.result('verify_backup')['report_lines'])


def legacy_backup(stack, path, cut_at=None):
    """What the runbook's backup-db.sh writes: pg_dump | gzip > file, with no
    pipefail, so a dump that dies part-way still leaves a valid gzip file."""
    dump = subprocess.run(['pg_dump', '-h', '127.0.0.1', '-p', str(PG_PORT), '-U', 'quickbite', 'quickbite'],
                          capture_output=True, check=True,
                          env=dict(os.environ, PGPASSWORD=stack['env']['DB_PASSWORD'])).stdout
    with open(path, 'wb') as handle:
        handle.write(gzip.compress(dump[:cut_at] if cut_at else dump))


def corrupt(path, how):
    size = os.path.getsize(path)
    if how == 'truncated':
        with open(path, 'r+b') as handle:
            handle.truncate(size // 2)
        os.unlink(path + '.sha256')  # no sidecar to catch it: the read-through must
    elif how == 'corrupted':
        with open(path, 'r+b') as handle:
            handle.seek(size // 2)
            byte = handle.read(1)
            handle.seek(size // 2)
            handle.write(bytes([byte[0] ^ 0xFF]))
        os.unlink(path + '.sha256')
    else:  # a sidecar that does not match
        with open(path + '.sha256', 'w') as handle:
            handle.write('%s  %s\n' % ('0' * 64, os.path.basename(path)))


@pytest.mark.parametrize('how', ['truncated', 'corrupted', 'wrong checksum'])
def test_damaged_backup_is_refused_and_target_untouched(stack, demo_vars, dest, tmp_path, how):
    path = take_backup(demo_vars, dest, tmp_path)
    corrupt(path, how)
    before, started = digest(), backend_started_at()
    # Without its sidecar the backup is foreign: allowed, so the reading itself is what refuses it.
    run = restore(demo_vars, dest, tmp_path, path, restore_db_allow_foreign_backup=how != 'wrong checksum')
    assert run.rc != 0 and 'nothing was touched' in run.output, run.output[-3000:]
    assert digest() == before and backend_started_at() == started
    assert not [n for n in os.listdir(dest) if 'pre-restore' in n]


def test_truncated_legacy_dump_is_refused(stack, demo_vars, dest, tmp_path):
    """The runbook script's failure mode: pg_dump died, gzip still wrote a valid file."""
    os.makedirs(dest)
    legacy = os.path.join(dest, 'quickbite_20250101_120000.sql.gz')
    legacy_backup(stack, legacy, cut_at=3000)
    before = digest()
    run = restore(demo_vars, dest, tmp_path, legacy, restore_db_allow_foreign_backup=True)
    assert run.rc != 0 and 'cut short' in run.output, run.output[-3000:]
    assert digest() == before


@pytest.mark.parametrize('confirm', ['', 'quickbite_prod'])
def test_missing_or_wrong_confirm_is_refused(stack, demo_vars, dest, tmp_path, confirm):
    path = take_backup(demo_vars, dest, tmp_path)
    before, started = digest(), backend_started_at()
    run = restore(demo_vars, dest, tmp_path, path, restore_db_confirm=confirm)
    assert run.rc != 0 and 'restore_db_confirm' in run.output, run.output[-3000:]
    assert digest() == before and backend_started_at() == started


def test_missing_path_is_refused(stack, demo_vars, dest, tmp_path):
    run = restore(demo_vars, dest, tmp_path, '')
    assert run.rc != 0 and 'restore_db_path' in run.output


def test_check_mode_changes_nothing(stack, clean_orders, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    change_data()
    before, started, names = digest(), backend_started_at(), sorted(os.listdir(dest))
    run = restore(demo_vars, dest, tmp_path, path, check=True)
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before and backend_started_at() == started and sorted(os.listdir(dest)) == names
    assert any('would drop and recreate quickbite' in s for s in run.result('pg_restore')['steps'])
    # Check mode predicts the run's changed (test_failed_restore...: changed even when it fails).
    assert run.result('pg_restore')['changed'] is True


def test_failed_restore_puts_the_pre_restore_backup_back(stack, clean_orders, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    with open(path + '.manifest.json') as handle:
        manifest = json.load(handle)
    manifest['tables']['orders'] += 1  # the restored data will not match what the manifest promises
    with open(path + '.manifest.json', 'w') as handle:
        json.dump(manifest, handle)
    change_data()
    before = digest()
    run = restore(demo_vars, dest, tmp_path, path)
    assert run.rc != 0 and 'put back from the pre-restore backup' in run.output, run.output[-3000:]
    assert digest() == before and run.result('pg_restore')['changed'] is True
    with urllib.request.urlopen(BACKEND_URL + '/actuator/health', timeout=10) as response:
        assert json.load(response)['status'] == 'UP'


def test_swap_mode_keeps_the_old_database(stack, clean_orders, demo_vars, dest, tmp_path):
    before = digest()
    path = take_backup(demo_vars, dest, tmp_path)
    change_data()
    changed = digest()
    run = restore(demo_vars, dest, tmp_path, path, restore_db_mode='swap')
    assert run.rc == 0, run.output[-3000:]
    kept = run.result('pg_restore')['kept_as']
    assert kept.startswith('quickbite_pre_restore_') and kept in databases()
    assert digest() == before and digest(kept) == changed
    assert not [n for n in os.listdir(dest) if 'pre-restore' in n]


def test_verify_compares_and_always_drops_the_scratch_database(stack, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    run = run_playbook('verify_backup.yml', extra=dict(demo_vars, verify_backup_dest_dir=dest), tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert run.result('verify_backup')['path'] == path and 'quickbite_test' not in databases()
    assert run.result('verify_backup')['changed'] is True  # as check mode predicts (test_verify_check_mode_...)
    with open(path + '.manifest.json') as handle:
        manifest = json.load(handle)
    assert manifest['verification']['ok'] is True
    manifest['tables']['users'] += 5
    manifest['flyway_version'] = '9'
    with open(path + '.manifest.json', 'w') as handle:
        json.dump(manifest, handle)
    run = run_playbook('verify_backup.yml', extra=dict(demo_vars, verify_backup_path=path), tmp_path=tmp_path)
    assert run.rc != 0 and 'users' in run.output and 'Flyway version' in run.output, run.output[-3000:]
    assert 'quickbite_test' not in databases()
    with open(path + '.manifest.json') as handle:
        assert json.load(handle)['verification']['ok'] is False


def test_verify_check_mode_creates_nothing(stack, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    with open(path + '.manifest.json') as handle:
        manifest = handle.read()
    before = databases()
    run = run_playbook('verify_backup.yml', extra=dict(demo_vars, verify_backup_path=path), check=True,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert databases() == before and 'would restore' in run.result('verify_backup')['report_lines'][0]
    with open(path + '.manifest.json') as handle:
        assert handle.read() == manifest
    # Check mode predicts the run's changed: a real run creates a scratch database and records in the manifest.
    assert run.result('verify_backup')['changed'] is True


def test_verify_refuses_the_live_database_as_scratch(stack, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    extra = dict(demo_vars, verify_backup_path=path, verify_backup_database='quickbite')
    run = run_playbook('verify_backup.yml', extra=extra, tmp_path=tmp_path)
    assert run.rc != 0 and 'verify_backup_database' in run.output


def test_exec_access_runs_inside_the_postgres_container(stack, clean_orders, demo_vars, dest, tmp_path):
    """quickbite_db_access=exec: pg_dump, pg_restore and psql run in the container over its socket; a
    wrong host password and an unreachable host port prove libpq on the host is not used."""
    inside = dict(quickbite_db_access='exec', quickbite_db_password='wrong', quickbite_db_host='192.0.2.1',
                  quickbite_db_admin_password='wrong')
    before = digest()
    path = take_backup(demo_vars, dest, tmp_path, backup_db_verify=True, **inside)
    change_data()
    run = restore(demo_vars, dest, tmp_path, path, **inside)
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before
    assert os.path.exists(run.result('pg_restore')['pre_restore_backup'])
    run = restore(demo_vars, dest, tmp_path, path, restore_db_mode='swap', **inside)
    assert run.rc == 0, run.output[-3000:]
    assert run.result('pg_restore')['kept_as'] in databases()
