"""A throw-away PostgreSQL 15 cluster from the host binaries, run as the
postgres OS user on 127.0.0.1:25432, with the QuickBite-like data set loaded
once and kept between runs under BASE/<key>, where the key is a digest of the
generator (comments aside), the migrations, the settings and SCALE: change any
and the next run rebuilds."""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

from _common import ROOT

BIN = '/usr/lib/postgresql/15/bin'
BASE = os.environ.get('BENCH_PG_BASE', '/var/lib/quickbite/bench-pg')
PORT = 25432
HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = os.path.join(ROOT, 'stack', 'backend', 'db', 'migration')
GENERATOR = os.path.join(HERE, 'generate.sql')
# SCALE multiplies the generator's row counts (0.1 for a quick try, 4 to see memory stay flat).
SCALE = float(os.environ.get('SCALE', '1'))
DB_NAME = 'quickbite'
DB_USER = 'quickbite'
DB_PASSWORD = 'bench-only-password'  # throw-away cluster on 127.0.0.1, nothing else uses it
ADMIN_PASSWORD = 'bench-only-admin-password'  # for the restore module's admin connection

# For a 2-core, 23 GB box; everything else is PostgreSQL's default (fsync and
# synchronous_commit stay on). max_wal_size keeps restores free of forced
# checkpoints, maintenance_work_mem speeds up their index builds.
SETTINGS = {
    'listen_addresses': "'127.0.0.1'",
    'port': str(PORT),
    'shared_buffers': "'1GB'",
    'maintenance_work_mem': "'256MB'",
    'work_mem': "'16MB'",
    'max_wal_size': "'4GB'",
    'checkpoint_timeout': "'15min'",
    'password_encryption': "'scram-sha-256'",
    'log_min_messages': "'warning'",
}


def as_postgres(argv):
    return ['runuser', '-u', 'postgres', '--'] + argv


def data_key():
    digest = hashlib.sha256()
    with open(GENERATOR, 'rb') as handle:  # its comments can change without a rebuild
        digest.update(b''.join(line for line in handle if not line.lstrip().startswith(b'--')))
    for path in sorted(glob.glob(os.path.join(MIGRATIONS, '*.sql'))):
        with open(path, 'rb') as handle:
            digest.update(os.path.basename(path).encode() + b'\0' + handle.read())
    digest.update(repr((sorted(SETTINGS.items()), SCALE)).encode())
    return digest.hexdigest()[:12]


class Cluster(object):
    def __init__(self):
        self.key = data_key()
        self.dir = os.path.join(BASE, self.key)
        self.data = os.path.join(self.dir, 'data')
        self.socket = os.path.join(self.dir, 'run')
        self.ready_mark = os.path.join(self.dir, 'loaded')
        self.log = os.path.join(self.dir, 'postgres.log')
        self.started = False

    @property
    def loaded(self):
        return os.path.exists(self.ready_mark)

    def prepare(self):
        """Remove clusters of other keys and half-built ones; initdb if needed."""
        os.makedirs(BASE, exist_ok=True)
        for other in os.listdir(BASE):
            path = os.path.join(BASE, other)
            if other != self.key and os.path.isdir(path):
                print('removing the cached cluster of an older generator: %s' % path)
                self.stop_stale(path)
                shutil.rmtree(path)
        if os.path.isdir(self.dir) and not self.loaded:
            print('removing a half-built cluster: %s' % self.dir)
            self.stop_stale(self.dir)
            shutil.rmtree(self.dir)
        if not os.path.isdir(self.data):
            os.makedirs(self.socket)
            shutil.chown(self.dir, 'postgres', 'postgres')
            shutil.chown(self.socket, 'postgres', 'postgres')
            subprocess.run(as_postgres([BIN + '/initdb', '-D', self.data, '-U', 'postgres', '-E', 'UTF8',
                                        '--locale=C.UTF-8', '--auth-local=peer', '--auth-host=scram-sha-256']),
                           check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(self.data, 'postgresql.conf'), 'a') as conf:
                conf.write('\n# benchmarks/backup\n')
                conf.write(''.join('%s = %s\n' % item for item in SETTINGS.items()))
                conf.write("unix_socket_directories = '%s'\n" % self.socket)

    @staticmethod
    def stop_stale(path):
        data = os.path.join(path, 'data')
        if os.path.exists(os.path.join(data, 'postmaster.pid')):
            subprocess.run(as_postgres([BIN + '/pg_ctl', '-D', data, '-m', 'fast', '-w', 'stop']),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def start(self):
        self.stop_stale(self.dir)
        subprocess.run(as_postgres([BIN + '/pg_ctl', '-D', self.data, '-l', self.log, '-w', '-t', '120', 'start']),
                       check=True, stdout=subprocess.DEVNULL)
        self.started = True
        self.admin_psql("ALTER ROLE postgres PASSWORD '%s';" % ADMIN_PASSWORD)

    def stop(self):
        if self.started:
            subprocess.run(as_postgres([BIN + '/pg_ctl', '-D', self.data, '-m', 'fast', '-w', 'stop']),
                           stdout=subprocess.DEVNULL, check=False)
            self.started = False

    def server_cpu(self):
        """CPU seconds the server has used so far: the postmaster, its live
        processes, and the backends it has reaped (cutime, cstime), so the
        difference over a step is its server-side cost whatever else runs."""
        with open(os.path.join(self.data, 'postmaster.pid')) as handle:
            postmaster = handle.readline().strip()
        ticks = 0
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/stat' % pid) as handle:
                    fields = handle.read().rsplit(')', 1)[1].split()
            except (IOError, OSError, IndexError):
                continue  # gone meanwhile
            if pid == postmaster:
                ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
            elif fields[1] == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / float(os.sysconf('SC_CLK_TCK'))

    def admin_psql(self, sql, dbname='postgres', quiet=True):
        """SQL as the superuser over the Unix socket (peer); returns stdout."""
        argv = [BIN + '/psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', self.socket,
                '-p', str(PORT), '-U', 'postgres', '-d', dbname]
        done = subprocess.run(as_postgres(argv), input=sql, text=True, check=True, capture_output=True)
        if not quiet and done.stdout:
            sys.stdout.write(done.stdout)
        return done.stdout.strip()

    def env(self, dbname=DB_NAME):
        """libpq environment for the application role over TCP."""
        env = dict(os.environ, PGHOST='127.0.0.1', PGPORT=str(PORT), PGUSER=DB_USER, PGPASSWORD=DB_PASSWORD,
                   PGDATABASE=dbname)
        env.pop('PGSERVICE', None)
        env.pop('PGPASSFILE', None)
        return env

    def create_db(self, name):
        self.drop_db(name)
        self.admin_psql('CREATE DATABASE "%s" OWNER "%s";' % (name, DB_USER))

    def drop_db(self, name):
        self.admin_psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE);' % name)

    def settle(self, name=None):
        """Before a timed restore: its empty target database (``name``), then a
        checkpoint and a sync, so that the restore does not pay for the previous
        one's writes (each writes about 1.5 GB of WAL and dirty pages; without
        this the checkpoint they start falls into whichever variant comes next)."""
        if name is not None:
            self.create_db(name)
        self.admin_psql('CHECKPOINT;')
        os.sync()

    def matches(self, name, source):
        """Whether database ``name`` holds what ``source`` (``(facts(), checksums())``
        of the source) says: row counts, the sum of order totals and a checksum of
        every table's rows; drops ``name``."""
        same = self.facts(name)[1:] == source[0][1:] and self.checksums(name) == source[1]
        self.drop_db(name)
        return same

    def load(self):
        """The roles, the schema as the reference backend's Flyway leaves it,
        then the generated data (generate.sql)."""
        sys.path.insert(0, os.path.join(ROOT, 'stack', 'backend'))
        import app  # the reference backend: its Migration and HISTORY_DDL, so the history matches Flyway's
        started = time.perf_counter()
        self.admin_psql("CREATE ROLE %s LOGIN CREATEDB PASSWORD '%s';" % (DB_USER, DB_PASSWORD))
        self.create_db(DB_NAME)
        self.admin_psql('ALTER SCHEMA public OWNER TO %s;' % DB_USER, DB_NAME)
        script = ['SET ROLE %s;' % DB_USER, app.HISTORY_DDL]
        for rank, path in enumerate(sorted(glob.glob(os.path.join(MIGRATIONS, 'V*__*.sql')),
                                           key=lambda p: app.Migration(p).key), 1):
            migration = app.Migration(path)
            script.append(migration.sql)
            script.append("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
                          " checksum, installed_by, installed_on, execution_time, success) VALUES"
                          " (%d, '%s', '%s', 'SQL', '%s', %d, current_user, timestamp '2024-01-01 09:00:00'"
                          " + interval '%d seconds', %d, true);"
                          % (rank, migration.version, migration.description, migration.script, migration.checksum,
                             rank, 5 + 7 * rank))
        self.admin_psql('BEGIN;\n%s\nCOMMIT;\n' % '\n'.join(script), DB_NAME)
        print('schema: migrations V1..V%d applied, flyway_schema_history written as Flyway does' % rank)
        with open(GENERATOR) as handle:
            generator = re.sub(r'(?m)^\\set (\w+) (\d+)$',
                               lambda m: '\\set %s %d' % (m.group(1), int(int(m.group(2)) * SCALE)), handle.read())
        self.admin_psql('SET ROLE %s;\n%s' % (DB_USER, generator), DB_NAME)
        self.admin_psql('VACUUM (FREEZE, ANALYZE);', DB_NAME)
        self.admin_psql('CHECKPOINT;')
        with open(self.ready_mark, 'w') as mark:
            mark.write('%s\n' % time.strftime('%Y-%m-%dT%H:%M:%S%z'))
        print('data generated in %.0f s' % (time.perf_counter() - started))

    def checksums(self, dbname=DB_NAME):
        """{table: 'rows:checksum'} of every table in public: the sum of hashtext()
        of each row's text, so equal values mean the same rows whatever their order."""
        tables = self.admin_psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                                 dbname).split()
        out = self.admin_psql(''.join("SELECT '%s', count(*) || ':' || coalesce(sum(hashtext(t::text)::bigint), 0) "
                                      "FROM public.%s t;\n" % (name, name) for name in tables), dbname)
        return dict(line.split('|', 1) for line in out.splitlines() if line)

    def facts(self, dbname=DB_NAME):
        """(database size in bytes, {table: rows}, sum of order totals)."""
        out = self.admin_psql("SELECT pg_database_size(current_database()), (SELECT count(*) FROM users),"
                              " (SELECT count(*) FROM orders), (SELECT count(*) FROM flyway_schema_history"
                              " WHERE success), (SELECT sum(total_amount) FROM orders);", dbname)
        size, users, orders, history, total = out.split('|')
        return int(size), dict(users=int(users), orders=int(orders), flyway_schema_history=int(history)), total
