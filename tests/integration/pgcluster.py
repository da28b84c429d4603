"""A throw-away PostgreSQL 15 from this host's binaries, run as the postgres OS
user on 127.0.0.1 (a free port) with its socket in a private directory: a real
database behind the emulator's pod exec for tests of the no-stack lane (the
pod's commands run as ``runuser -u postgres -- env PGHOST=<socket dir>``, so
psql as postgres over the local socket is peer-authenticated, as in the
reference stack's container). pg_hba.conf asks for a password on 127.0.0.1,
and every statement is logged (log_statement=all), so a test can prove that
no password reached the server."""
import os
import shutil
import socket
import subprocess
import tempfile

BIN = '/usr/lib/postgresql/15/bin'
# Flyway's history table (its columns as Flyway creates them); each test fills in its own rows.
FLYWAY_HISTORY_TABLE = """
CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,
    script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INT NOT NULL, success BOOLEAN NOT NULL,
    CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank));
"""
HBA = """local   all  all                 peer
host    all  all  127.0.0.1/32   scram-sha-256
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Cluster(object):
    def __init__(self, settings=()):
        self.settings = list(settings)  # server settings: 'name=value'
        self.dir = tempfile.mkdtemp(prefix='quickbite-pg-')
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, 'data')
        self.socket_dir = os.path.join(self.dir, 'run')
        self.log = os.path.join(self.dir, 'postgres.log')
        self.port = _free_port()

    def as_postgres(self, argv):
        return ['runuser', '-u', 'postgres', '--', 'env', 'PGHOST=%s' % self.socket_dir] + list(argv)

    @property
    def exec_prefix(self):
        """The emulator's exec backend for the postgres pod."""
        return self.as_postgres([])

    def start(self):
        os.mkdir(self.socket_dir)
        shutil.chown(self.dir, 'postgres')
        shutil.chown(self.socket_dir, 'postgres')
        subprocess.run(self.as_postgres([os.path.join(BIN, 'initdb'), '-D', self.data, '-U', 'postgres', '-E', 'UTF8',
                                         '--locale=C.UTF-8', '--auth-local=peer', '--auth-host=scram-sha-256']),
                       check=True, capture_output=True, cwd=self.dir)
        with open(os.path.join(self.data, 'pg_hba.conf'), 'w') as handle:
            handle.write(HBA)
        options = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c log_statement=all "
                   "-c password_encryption=scram-sha-256" % (self.port, self.socket_dir)
                   + ''.join(' -c %s' % setting for setting in self.settings))
        subprocess.run(self.as_postgres([os.path.join(BIN, 'pg_ctl'), '-D', self.data, '-o', options, '-l', self.log,
                                         '-w', '-s', 'start']), check=True, capture_output=True, cwd=self.dir)
        return self

    def psql(self, sql, db='postgres'):
        """Run ``sql`` as postgres, unlogged (it may set passwords); its output
        (unaligned, tuples only)."""
        return subprocess.run(self.as_postgres(['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-p',
                                                str(self.port), '-d', db]), input="SET log_statement = 'none';\n" + sql,
                              text=True, check=True,
                              capture_output=True, cwd=self.dir).stdout.strip()

    def server_log(self):
        with open(self.log) as handle:
            return handle.read()

    def stop(self):
        subprocess.run(self.as_postgres([os.path.join(BIN, 'pg_ctl'), '-D', self.data, '-m', 'immediate', '-s',
                                         'stop']), check=False, capture_output=True, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
