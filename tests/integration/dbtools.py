"""Independent looks at the demo stack's PostgreSQL (or a throw-away cluster, use())
for the database tests: plain psql as the superuser, never the collection's own code."""
import json
import os
import re
import subprocess
import time

from conftest import PG_PORT, ROOT, STACK_DIR, VENV_BIN, demo_inventory, run_playbook

PG = dict(host='127.0.0.1', port=str(PG_PORT))


def env_value(key):
    with open(os.path.join(STACK_DIR, '.env.prod')) as handle:
        for line in handle:
            if line.startswith(key + '='):
                return line.rstrip('\n').split('=', 1)[1]
    raise KeyError(key)


# The database the helpers here look at: the demo stack's PostgreSQL, unless a module
# of the no-stack lane points them at a throw-away cluster (use(), k8s_pg.py).
_CLUSTER = []


def use(cluster):
    """psql, databases, digest and drop_db look at ``cluster`` (a pgcluster.Cluster
    with a ``passwords`` dict by role) until use(None): the demo stack again."""
    del _CLUSTER[:]
    if cluster is not None:
        _CLUSTER.append(cluster)


def _connection(user):
    """(libpq arguments, environment) for ``user`` on the database looked at."""
    if _CLUSTER:
        cluster = _CLUSTER[0]
        host, port, password = '127.0.0.1', str(cluster.port), cluster.passwords[user]
    else:
        host, port = PG['host'], PG['port']
        password = env_value('POSTGRES_PASSWORD' if user == 'postgres' else 'DB_PASSWORD')
    return ['-h', host, '-p', port, '-U', user], dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT='5')


def psql(sql, db='postgres', user='postgres', check=True):
    args, env = _connection(user)
    proc = subprocess.run(['psql', '-X'] + args + ['-d', db, '-v', 'ON_ERROR_STOP=1', '-tAc', sql],
                          capture_output=True, text=True, check=False, env=env)
    if check and proc.returncode != 0:
        raise AssertionError('psql failed: %s' % proc.stderr)
    return proc.stdout.strip()


def schema_dump(db='quickbite'):
    """pg_dump --schema-only of ``db`` without its random \\restrict key and
    the column stamps the server sets at every CREATE TABLE (the stack's
    PostgreSQL 15.20 writes a ``pg_attver`` option on each column): two
    databases with the same tables, indexes, constraints and their ties give the same text."""
    args, env = _connection('postgres')
    text = subprocess.run(['pg_dump', '--schema-only'] + args + [db], capture_output=True, text=True, check=True,
                          env=env).stdout
    return [re.sub(r'\bpg_attver=\d+', 'pg_attver=N', line) for line in text.splitlines()
            if not line.startswith(('\\restrict ', '\\unrestrict '))]


def databases():
    return set(psql('SELECT datname FROM pg_database').splitlines())


def digest(db='quickbite'):
    """{table: md5 of every row, ordered}: equal digests mean identical data."""
    tables = psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", db=db).splitlines()
    return dict((t, psql("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') "
                         'FROM public.%s x' % t, db=db)) for t in tables)


def structure(db='quickbite'):
    """Every index and constraint of the public schema with its definition, and
    whether the constraint is validated: a load that left one out, or added a
    foreign key NOT VALID, differs."""
    return psql("SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
                "SELECT 'index ' || indexname || ': ' || indexdef AS x FROM pg_indexes WHERE schemaname = 'public' "
                "UNION ALL SELECT 'constraint ' || conname || ' ' || contype::text || ' validated ' || convalidated || ': ' "
                "|| pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = 'public') s", db=db).splitlines()


def backups_in(directory):
    """Every name that looks like a backup (or its partial) in ``directory``."""
    if not os.path.isdir(directory):
        return []
    return sorted(n for n in os.listdir(directory) if not n.startswith('.'))


def start_playbook(playbook, extra):
    argv = [os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, 'playbooks', playbook),
            '-i', os.path.join(ROOT, demo_inventory())]
    for key, value in extra.items():
        argv += ['-e', json.dumps({key: value})]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,
                            env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_NOCOLOR='1'))


def wait_for(predicate, timeout=60, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def make_big_db(name, rows=400000):
    """A database whose dump takes long enough (with zstd -19) to interrupt."""
    psql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
    psql('CREATE DATABASE %s OWNER quickbite' % name)
    psql("CREATE TABLE filler AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS a, "
         "md5((g * 13)::text) AS b FROM generate_series(1, %d) g" % rows, db=name, user='quickbite')


def drop_db(name):
    psql('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)


def take_backup(demo_vars, dest, tmp_path, **extra):
    """A backup of the demo database into ``dest`` by the backup playbook; its path."""
    run = run_playbook('backup_db.yml', extra=dict(demo_vars, backup_db_dest_dir=dest, **extra), tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    return run.result('pg_backup')['path']
