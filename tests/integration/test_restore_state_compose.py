"""pg_restore's derived names and its recorded state on the real Compose stack
and PostgreSQL 15: a swap restore of a database whose name has 63 bytes keeps
the live one (PostgreSQL used to truncate <db>_restore_<ts> back to it); a
derived name that exists already is refused and left alone; a restore killed
with SIGKILL right after stopping the writers is settled by the next run (the
backend running and healthy, the database the original or the restored one,
as the rerun reports)."""
import datetime
import json
import os

import pytest

from conftest import backend_health, kill_module, run_playbook
from dbtools import databases, digest, drop_db, psql, start_playbook, take_backup, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.compose]

LONG = 'quickbite_restore_name_test_' + 'x' * 35  # 63 bytes


def restore_vars(demo_vars, dest, path, **extra):
    values = dict(demo_vars, restore_db_path=path, restore_db_confirm='quickbite', restore_db_backup_dir=dest)
    values.update(extra)
    return values


@pytest.fixture
def scratch(stack):
    def cleanup():
        for name in databases():
            if name.startswith(LONG[:20]) or name.startswith('quickbite_restore_'):
                drop_db(name)
    cleanup()
    yield
    cleanup()


def test_swap_of_a_63_byte_database_name_keeps_the_live_database(stack, scratch, demo_vars, dest, tmp_path):
    assert len(LONG.encode()) == 63
    psql('CREATE DATABASE %s OWNER quickbite' % LONG)
    psql("CREATE TABLE live_marker AS SELECT 'the live one'::text AS note", db=LONG, user='quickbite')
    path = take_backup(demo_vars, dest, tmp_path)
    run = run_playbook('restore_db.yml', tmp_path=tmp_path, extra=restore_vars(
        demo_vars, dest, path, quickbite_db_name=LONG, restore_db_confirm=LONG, restore_db_mode='swap',
        restore_db_stop_writers=False))
    assert run.rc == 0, run.output[-3000:]
    kept = run.result('pg_restore')['kept_as']
    assert len(kept.encode()) <= 63 and '_pre_restore_' in kept and kept != LONG
    # The live database was renamed, not dropped: its marker is in the kept one; the new one is the backup.
    assert psql('SELECT note FROM live_marker', db=kept) == 'the live one'
    assert digest(LONG) == digest('quickbite')


def test_swap_refuses_a_derived_name_that_exists_and_leaves_it(stack, scratch, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    now = datetime.datetime.now()
    # Whatever second the run starts in, its <db>_restore_<ts> exists already.
    taken = ['quickbite_restore_%s' % (now + datetime.timedelta(seconds=s)).strftime('%Y%m%d_%H%M%S')
             for s in range(0, 40)]
    for name in taken:
        psql('CREATE DATABASE %s OWNER quickbite' % name)
    psql('CREATE TABLE precious AS SELECT 1 AS id', db=taken[-1], user='quickbite')
    before = digest()
    run = run_playbook('restore_db.yml', tmp_path=tmp_path, extra=restore_vars(
        demo_vars, dest, path, restore_db_mode='swap', restore_db_stop_writers=False))
    assert run.rc != 0 and 'exists already' in run.output and 'did not create it' in run.output, run.output[-3000:]
    assert set(taken) <= databases() and digest() == before
    assert psql('SELECT count(*) FROM precious', db=taken[-1]) == '1'


def _phase(path):
    try:
        with open(path) as handle:
            return json.load(handle)['phase']
    except (IOError, OSError, ValueError, KeyError):
        return None


def test_restore_killed_after_stopping_the_writers_is_settled_by_the_rerun(stack, demo_vars, dest, tmp_path):
    original = digest()
    path = take_backup(demo_vars, dest, tmp_path)
    psql("INSERT INTO orders (user_id, restaurant, total_amount) SELECT min(id), 'Restore State Diner', 9.50 "
         'FROM users', db='quickbite')
    changed = digest()
    state = os.path.join(stack['dir'], '.quickbite-ops', 'restore-quickbite.pending.json')
    values = restore_vars(demo_vars, dest, path)
    try:
        proc = start_playbook('restore_db.yml', values)
        assert wait_for(lambda: _phase(state) == 'writers stopped' or proc.poll() is not None, timeout=120)
        assert kill_module(proc, 'pg_restore'), 'no AnsiballZ_pg_restore below ansible-playbook %d' % proc.pid
        proc.communicate(timeout=120)
        killed_in = _phase(state)
        assert killed_in is not None, 'the killed run left no state'
        rerun = run_playbook('restore_db.yml', extra=values, tmp_path=tmp_path)
        result = rerun.result('pg_restore')
        assert 'found an interrupted restore of %s' % path in ' '.join(result['steps']), rerun.output[-3000:]
        assert not os.path.exists(state)
        assert wait_for(lambda: backend_health() == 'UP', timeout=60)
        if result['outcome'] == 'restored':
            assert rerun.rc == 0 and digest() == original, rerun.output[-3000:]
        else:
            assert result['outcome'] == 'original' and rerun.rc != 0 and 'Run the restore again' in rerun.output
            assert digest() == changed
    finally:
        psql("DELETE FROM orders WHERE restaurant = 'Restore State Diner'", db='quickbite')
