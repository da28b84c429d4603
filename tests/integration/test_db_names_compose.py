"""Database names, the psql session of the exec path, libpq's TLS settings
and unreadable tables, on the real Compose stack and PostgreSQL 15.

A name carrying SQL is refused where it enters; below that boundary, values
reach psql as data and every statement has a time limit; a table the backup
role cannot read is named with the role and the GRANT that fixes it."""
import os
import subprocess
import time

import pytest

from conftest import STACK_DIR, run_playbook
from dbtools import PG, databases, drop_db, env_value, psql, wait_for

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import Target
from ansible_collections.quickbite.ops.plugins.module_utils.db.exec_sql import ExecAdmin, PsqlSession
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.health import checks

pytestmark = [pytest.mark.integration, pytest.mark.compose]

CANARY = 'qb_names_canary'
SECRET_TABLE = 'qb_names_secret'
MARKER = '/tmp/qb_names_pwned'


def exec_spawn(argv, stdin, stdout, stderr, env=None):
    """What the Compose adapter's exec_spawn runs: psql in the postgres container as postgres."""
    prefix = ['docker', 'compose', '-p', 'quickbite', '-f', os.path.join(STACK_DIR, 'docker-compose.prod.yml'),
              '--env-file', os.path.join(STACK_DIR, '.env.prod'), 'exec', '-T', '--user', 'postgres', 'postgres']
    return subprocess.Popen(prefix + list(argv), stdin=stdin, stdout=stdout, stderr=stderr, close_fds=True)


def in_container(*argv):
    return subprocess.run(['docker', 'exec', 'quickbite-postgres-1'] + list(argv), capture_output=True,
                          check=False).returncode


@pytest.fixture
def canary(stack):
    drop_db(CANARY)
    psql('CREATE DATABASE %s' % CANARY)
    yield CANARY
    drop_db(CANARY)


def test_exec_restore_refuses_a_database_name_that_carries_sql(canary, demo_vars, tmp_path):
    """Issue 10 item 1: on the exec path this name dropped the canary as postgres."""
    name = 'qb\nDROP DATABASE %s;' % canary
    bogus = tmp_path / 'any.sql'
    bogus.write_text('--\n')
    run = run_playbook('restore_db.yml', extra=dict(
        demo_vars, quickbite_db_access='exec', quickbite_db_name=name, restore_db_path=str(bogus),
        restore_db_confirm=name, restore_db_backup_dir=str(tmp_path / 'backups')), tmp_path=tmp_path)
    assert run.rc != 0
    msg = run.result('pg_restore')['msg']
    assert msg.startswith('refusing quickbite_db_name (option db_name) ') and "control character '\\n'" in msg, msg
    assert 'nothing was changed' in msg
    assert canary in databases()


def test_session_values_are_data_never_commands(canary):
    """Quotes, backslashes, newlines, a psql meta-command and SQL in a value all come back as the value."""
    hostile = ("x'; DROP DATABASE %s; --\n\\! touch %s\nDROP DATABASE %s;\n\\\\ \"q\" \\' \u00e9"
               % (canary, MARKER, canary))
    with PsqlSession(exec_spawn, int(PG['port']), 'postgres', timeout=30) as session:
        hexed = session.rows("SELECT encode(convert_to(:'v', 'UTF8'), 'hex')", v=hostile)
        assert bytes.fromhex(hexed[0][0]).decode('utf-8') == hostile
    assert canary in databases() and in_container('test', '-e', MARKER) == 1
    # Identifiers too: a database whose name is all quotes and backslashes is created, found and dropped.
    admin = ExecAdmin(exec_spawn, int(PG['port']), 'quickbite', timeout=30)
    odd = 'qb "odd\' \\name'
    try:
        admin.create(odd)
        assert admin.exists(odd) and odd in databases()
    finally:
        admin.drop(odd)
    assert not admin.exists(odd) and canary in databases()


def test_a_hung_statement_fails_within_the_limit_and_is_cancelled(stack):
    session = PsqlSession(exec_spawn, int(PG['port']), 'postgres', timeout=2)
    with session:
        started = time.monotonic()
        with pytest.raises(PlatformError) as err:
            session.rows('SELECT pg_sleep(60)')
        elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed
    assert 'within 2 s' in err.value.msg or 'statement timeout' in err.value.msg, err.value.msg
    assert 'quickbite_db_exec_timeout' in err.value.msg
    assert session.proc.poll() is not None
    # Nothing keeps running on the server either.
    assert wait_for(lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'")
                    == '0', timeout=10)


def test_tls_mode_reaches_the_connection(stack):
    """The demo PostgreSQL has no SSL: require fails naming the variable, disable connects."""
    password = env_value('DB_PASSWORD')
    target = Target(PG['host'], int(PG['port']), 'quickbite', 'quickbite', password, 5, sslmode='require')
    with pytest.raises(PlatformError) as err:
        target.connect()
    assert 'SSL' in err.value.msg and 'quickbite_db_sslmode (now require)' in err.value.msg
    target.sslmode = 'disable'
    conn = target.connect()
    with conn.cursor() as cur:
        cur.execute('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
        assert cur.fetchone()[0] is False
    conn.close()
    down = checks.database(PG['host'], int(PG['port']), 'quickbite', 'quickbite', password, 5, sslmode='require')
    assert down['status'] == 'DOWN' and 'quickbite_db_sslmode' in down['evidence']
    up = checks.database(PG['host'], int(PG['port']), 'quickbite', 'quickbite', password, 5, sslmode='disable')
    assert up['status'] == 'UP'


def test_backup_with_sslmode_require_fails_naming_the_variable(stack, demo_vars, tmp_path):
    dest = tmp_path / 'backups'
    run = run_playbook('backup_db.yml', extra=dict(demo_vars, backup_db_dest_dir=str(dest),
                                                   quickbite_db_sslmode='require'), tmp_path=tmp_path)
    assert run.rc != 0
    msg = run.result('pg_backup')['msg']
    assert 'SSL' in msg and 'quickbite_db_sslmode (now require)' in msg, msg
    assert not dest.exists() or not [n for n in os.listdir(str(dest)) if not n.startswith('.')]


@pytest.fixture
def secret_table(stack):
    psql('DROP TABLE IF EXISTS public.%s' % SECRET_TABLE, db='quickbite')
    psql('CREATE TABLE public.%s (id int); INSERT INTO public.%s VALUES (1)' % (SECRET_TABLE, SECRET_TABLE),
         db='quickbite')
    yield 'public.%s' % SECRET_TABLE
    psql('DROP TABLE IF EXISTS public.%s' % SECRET_TABLE, db='quickbite')


def test_a_table_the_backup_role_cannot_read_is_named_with_the_fix(secret_table, demo_vars, tmp_path):
    """Issue 10 item 14: pg_dump's 'permission denied' was hidden behind a lost snapshot.
    sslmode disable is set here too: the connection is made, the refusal comes from the database."""
    dest = tmp_path / 'backups'
    run = run_playbook('backup_db.yml', extra=dict(demo_vars, backup_db_dest_dir=str(dest),
                                                   quickbite_db_sslmode='disable'), tmp_path=tmp_path)
    assert run.rc != 0
    msg = run.result('pg_backup')['msg']
    assert 'snapshot' not in msg, msg
    assert 'role quickbite cannot read table %s (owner postgres)' % secret_table in msg, msg
    assert 'GRANT SELECT ON %s TO quickbite' % secret_table in msg and 'quickbite_db_access=exec' in msg
    assert not [n for n in os.listdir(str(dest)) if not n.startswith('.')]
