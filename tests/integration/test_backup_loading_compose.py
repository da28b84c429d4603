"""Loading backups safely (issue 10 items 2 and 5) on the real Compose stack and
PostgreSQL 15: a plain backup carrying a psql meta-command is refused by
verification and by the restore before anything runs (or, into a target with
nothing to lose, before psql sees its line, the load undone); a backslash inside
COPY data still restores; a backup someone else could have written is
refused without the allow_foreign_backup variables; verification never
drops a database it did not mark as its scratch database."""
import hashlib
import json
import os
import subprocess
import uuid

import pytest

from conftest import container, run_playbook
from dbtools import databases, digest, drop_db, psql, schema_dump, take_backup

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def verify(demo_vars, tmp_path, path, **extra):
    run = run_playbook('verify_backup.yml', extra=dict(demo_vars, verify_backup_path=path, **extra), tmp_path=tmp_path)
    return run, run.result('verify_backup')


def restore(demo_vars, dest, tmp_path, path, **extra):
    values = dict(demo_vars, restore_db_path=path, restore_db_confirm='quickbite', restore_db_backup_dir=dest)
    values.update(extra)
    run = run_playbook('restore_db.yml', extra=values, tmp_path=tmp_path)
    return run, run.result('pg_restore')


def rewrite_plain(path, edit):
    """Decompress a pg_backup plain zstd backup, edit its SQL, compress it
    again and write a matching sidecar: a set only the content checks refuse."""
    sql = subprocess.run(['zstd', '-q', '-d', '-c', path], capture_output=True, check=True).stdout
    data = subprocess.run(['zstd', '-q', '-c'], input=edit(sql), capture_output=True, check=True).stdout
    with open(path, 'wb') as handle:
        handle.write(data)
    with open(path + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % (hashlib.sha256(data).hexdigest(), os.path.basename(path)))


def backend_started_at():
    return subprocess.run(['docker', 'inspect', '--format', '{{.State.StartedAt}}', container('backend')],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_meta_command_is_refused_by_verify_and_restore(stack, demo_vars, dest, tmp_path):
    """``\\! id > file`` in a plain backup ran as root when psql loaded it. The dump's own \\restrict
    lines are taken out (as pg_dump before 15.14 writes it), so only the scan stands in the way."""
    path = take_backup(demo_vars, dest, tmp_path)
    canary = '/tmp/quickbite-meta-%s' % uuid.uuid4().hex

    def plant(sql):
        lines = [line for line in sql.split(b'\n') if not line.startswith((b'\\restrict', b'\\unrestrict'))]
        at = lines.index(b'SET row_security = off;') + 1
        return b'\n'.join(lines[:at] + [b'\\! id > ' + canary.encode()] + lines[at:])
    rewrite_plain(path, plant)
    before, started, names = digest(), backend_started_at(), databases()

    run, result = verify(demo_vars, tmp_path, path)
    assert run.rc != 0 and 'psql meta-command' in result['msg'] and canary in result['msg'], run.output[-3000:]
    assert not os.path.exists(canary) and databases() == names

    run, result = restore(demo_vars, dest, tmp_path, path)
    assert run.rc != 0 and 'psql meta-command' in result['msg'] and 'nothing was touched' in result['msg']
    assert not os.path.exists(canary)
    assert digest() == before and backend_started_at() == started and databases() == names
    assert not [n for n in os.listdir(dest) if 'pre-restore' in n]


@pytest.fixture
def scratch(stack):
    name = 'quickbite_h2_scratch'
    drop_db(name)
    yield name
    drop_db(name)


def test_a_backup_checked_while_it_loads_is_refused_and_the_load_undone(stack, scratch, demo_vars, dest, tmp_path):
    """Into a target with nothing to lose (swap mode's new database, a database that does not exist), the
    backup's reading checks run on the bytes the load reads: a meta-command stops the load before psql sees its
    line, a dump cut short or changed fails once read, and the load is undone; the live database is untouched."""
    path = take_backup(demo_vars, dest, tmp_path)
    with open(path, 'rb') as handle:
        good = handle.read()
    canary = '/tmp/quickbite-meta-%s' % uuid.uuid4().hex

    def plant(sql):  # after the data, as pg_dump before 15.14 writes it (no \restrict)
        lines = [line for line in sql.split(b'\n') if not line.startswith((b'\\restrict', b'\\unrestrict'))]
        at = lines.index(b'-- PostgreSQL database dump complete')
        return b'\n'.join(lines[:at] + [b'\\! id > ' + canary.encode()] + lines[at:])
    rewrite_plain(path, plant)
    before, started, names = digest(), backend_started_at(), databases()
    run, result = restore(demo_vars, dest, tmp_path, path, restore_db_mode='swap')
    assert run.rc != 0 and 'psql meta-command' in result['msg'] and 'found while loading it' in result['msg'], \
        run.output[-3000:]
    assert 'is the original one' in result['msg'] and not os.path.exists(canary)
    assert digest() == before and backend_started_at() == started and databases() == names

    # Cut short (no closing line), into a database that does not exist: dropped again.
    with open(path, 'wb') as handle:
        handle.write(good)
    rewrite_plain(path, lambda sql: sql[:sql.index(b'-- PostgreSQL database dump complete')])
    new_db = scratch  # a database that does not exist
    new = dict(quickbite_db_name=new_db, restore_db_confirm='', restore_db_stop_writers=False)
    run, result = restore(demo_vars, dest, tmp_path, path, **new)
    assert run.rc != 0 and 'cut short' in result['msg'] and 'did not exist before the restore' in result['msg'], \
        run.output[-3000:]
    assert databases() == names

    # Changed after the sidecar was written: loaded, then found out, and the load undone.
    with open(path, 'wb') as handle:
        handle.write(good)
    with open(path + '.sha256', 'a') as handle:
        handle.seek(0)
        handle.truncate()
        handle.write('%s  %s\n' % ('0' * 64, os.path.basename(path)))
    run, result = restore(demo_vars, dest, tmp_path, path, **new)
    assert run.rc != 0 and 'checksum mismatch' in result['msg'] and new_db not in databases(), run.output[-3000:]

    # The good backup, sidecar and all: loaded with its checks on the way, into the new database.
    with open(path + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % (hashlib.sha256(good).hexdigest(), os.path.basename(path)))
    run, result = restore(demo_vars, dest, tmp_path, path, **new)
    assert run.rc == 0, run.output[-3000:]
    evidence = [c['evidence'] for c in result['checks']]
    assert any('checked while loading' in e for e in evidence) and any('closing line present' in e for e in evidence)
    assert digest(new_db) == before and digest() == before and backend_started_at() == started


def test_a_key_the_rows_break_fails_its_build_and_the_load_is_undone(stack, scratch, demo_vars, dest, tmp_path):
    """An order row twice in the backup: orders_pkey, built as a unique index beside orders' other indexes
    (parallel_load._keys_as_indexes), fails with PostgreSQL's own message; the builds beside it are stopped,
    the new database dropped again, the live one untouched."""
    path = take_backup(demo_vars, dest, tmp_path)

    def duplicate(sql):
        head, rest = sql.split(b'\nCOPY public.orders ', 1)
        statement, rows = rest.split(b'\n', 1)
        return head + b'\nCOPY public.orders ' + statement + b'\n' + rows.split(b'\n', 1)[0] + b'\n' + rows
    rewrite_plain(path, duplicate)
    before, started, names = digest(), backend_started_at(), databases()
    run, result = restore(demo_vars, dest, tmp_path, path, quickbite_db_name=scratch, restore_db_confirm='',
                          restore_db_stop_writers=False)
    assert run.rc != 0 and 'could not create unique index "orders_pkey"' in result['msg'], run.output[-3000:]
    assert 'is duplicated' in result['msg'] and 'did not exist before the restore' in result['msg']
    assert databases() == names and digest() == before and backend_started_at() == started
    assert psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'" % scratch) == '0'


@pytest.fixture
def line_break(stack):
    """Quoted names holding a line break: a table with a foreign key to users, and the primary key of a
    plain table."""
    psql('CREATE TABLE public."line\nbreak" (id bigint PRIMARY KEY, '
         'user_id bigint CONSTRAINT "fk\nto users" REFERENCES public.users(id), v text); '
         'CREATE TABLE public.h2_keys (id bigint CONSTRAINT "key\nof it" PRIMARY KEY, v text); '
         'CREATE INDEX h2_keys_v ON public.h2_keys (v); '
         'INSERT INTO public."line\nbreak" SELECT n, (SELECT min(id) FROM public.users), n::text '
         'FROM generate_series(1, 50) n; '
         'INSERT INTO public.h2_keys SELECT n, n::text FROM generate_series(1, 40) n', db='quickbite', user='quickbite')
    yield
    psql('DROP TABLE IF EXISTS public."line\nbreak", public.h2_keys', db='quickbite', user='quickbite')


def test_names_with_a_line_break_load_as_pg_dump_wrote_them(stack, line_break, scratch, demo_vars, dest, tmp_path):
    """pg_dump writes such a name as it is, over two lines. The load reads statements with their lines
    joined: it keeps h2_keys' primary key as pg_dump wrote it rather than rebuild it under a changed name
    (parallel_load._verbatim); the COPY of "line\nbreak", over two lines, is loaded by the last session,
    and the row counts wait for it (0 of 50 rows were counted before)."""
    path = take_backup(demo_vars, dest, tmp_path)
    schema = schema_dump()
    run, result = restore(demo_vars, dest, tmp_path, path, quickbite_db_name=scratch, restore_db_confirm='',
                          restore_db_stop_writers=False)
    assert run.rc == 0, run.output[-3000:]
    assert schema_dump(scratch) == schema
    assert psql('SELECT count(*) FROM public."line\nbreak"', db=scratch) == '50'
    assert psql('SELECT count(*) FROM public.h2_keys', db=scratch) == '40'
    # users is vacuumed for orders' foreign key; "line\nbreak", whose key keeps pg_dump's statement, is not
    assert psql("SELECT string_agg(relname || ' ' || vacuum_count, ',' ORDER BY relname) FROM pg_stat_user_tables "
                "WHERE relname IN ('users', 'line\nbreak')", db=scratch) == 'line\nbreak 0,users 1'


@pytest.fixture
def notes(stack):
    psql('CREATE TABLE public.h2_notes (note text)', db='quickbite', user='quickbite')
    yield
    psql('DROP TABLE IF EXISTS public.h2_notes', db='quickbite', user='quickbite')
    psql('COMMENT ON TABLE public.users IS NULL', db='quickbite', user='quickbite')


def test_a_backslash_inside_copy_data_still_restores(stack, notes, demo_vars, dest, tmp_path):
    """A row whose value starts with a backslash: COPY data, never a command. Loaded as the owner."""
    canary = '/tmp/quickbite-copy-%s' % uuid.uuid4().hex
    value = '\\! id > %s' % canary
    psql("INSERT INTO public.h2_notes VALUES ('%s')" % value, db='quickbite', user='quickbite')
    before = digest()
    path = take_backup(demo_vars, dest, tmp_path)
    # Who loads it: the last statement records current_user (pg_dump's ALTER ... OWNER hides it otherwise).
    rewrite_plain(path, lambda sql: sql.replace(b'\n--\n-- PostgreSQL database dump complete', (
        b"\nDO $$ BEGIN EXECUTE format('COMMENT ON TABLE public.users IS %L', current_user); END $$;\n"
        b'\n--\n-- PostgreSQL database dump complete'), 1))
    psql('DELETE FROM public.h2_notes', db='quickbite', user='quickbite')
    run, result = restore(demo_vars, dest, tmp_path, path)
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before and psql('SELECT note FROM public.h2_notes', db='quickbite') == value
    assert not os.path.exists(canary)
    assert any('no psql meta-command outside COPY data' in c['evidence'] for c in result['checks'])
    # Loaded as the owner (the application role), not the superuser postgres.
    assert psql("SELECT obj_description('public.users'::regclass, 'pg_class')", db='quickbite') == 'quickbite'


def test_foreign_backups_and_scratch_databases(stack, scratch, demo_vars, dest, tmp_path):
    path = take_backup(demo_vars, dest, tmp_path)
    with open(path + '.manifest.json') as handle:
        manifest = handle.read()
    # Writable by others: refused without verify_backup_allow_foreign_backup, nothing recorded.
    os.chmod(path, 0o666)
    run, result = verify(demo_vars, tmp_path, path, verify_backup_database=scratch)
    assert run.rc != 0 and path in result['msg'] and 'mode 0666' in result['msg'], run.output[-3000:]
    assert 'verify_backup_allow_foreign_backup=true' in result['msg'] and scratch not in databases()
    assert result['changed'] is False  # a refusal changes nothing, and says so
    with open(path + '.manifest.json') as handle:
        assert handle.read() == manifest
    # A database of that name this collection did not mark: refused, left alone.
    psql('CREATE DATABASE %s' % scratch)
    run, result = verify(demo_vars, tmp_path, path, verify_backup_database=scratch,
                         verify_backup_allow_foreign_backup=True)
    assert run.rc != 0 and scratch in result['msg'] and 'verify_backup_database' in result['msg'], run.output[-3000:]
    assert scratch in databases() and result['changed'] is False
    # A leftover of a killed run (marked): dropped and created again; the foreign backup accepted with the option.
    psql("COMMENT ON DATABASE %s IS 'quickbite.ops scratch: verify_backup 2026-01-01T00:00:00+00:00 pid 1'" % scratch)
    run, result = verify(demo_vars, tmp_path, path, verify_backup_database=scratch,
                         verify_backup_allow_foreign_backup=True)
    assert run.rc == 0, run.output[-3000:]
    assert result['stale_database_dropped'] is True and scratch not in databases()
    assert any('foreign backup accepted' in c['evidence'] and 'mode 0666' in c['evidence'] for c in result['checks'])
    with open(path + '.manifest.json') as handle:
        assert json.load(handle)['verification']['ok'] is True
