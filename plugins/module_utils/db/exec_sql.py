# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQL inside the postgres container, for deployments whose database is not
reachable from the host (``access: exec``): one ``psql`` kept open through
``docker compose exec`` (or a pod's exec), connected over the local socket as
the postgres OS user (peer authentication, so no password travels at all).

Values reach SQL as psql variables, quoted by psql itself (``:'v'`` a
literal, ``:"v"`` an identifier), never pasted into the statement."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import tempfile

from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import table_key
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError

SEP = '\x1f'
COUNTS = r"""SELECT format('SELECT %L, %L, count(*) FROM %I.%I', n.nspname, c.relname, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1 \gexec"""
FLYWAY = """SELECT (SELECT version FROM public.flyway_schema_history WHERE success AND version IS NOT NULL
                ORDER BY installed_rank DESC LIMIT 1), (SELECT count(*) FROM public.flyway_schema_history
                WHERE NOT success)"""


def psql_quote(value):
    return "'%s'" % str(value).replace('\\', '\\\\').replace("'", "''")


class PsqlSession(object):
    def __init__(self, spawn, port, dbname, user='postgres'):
        self.spawn = spawn
        self.argv = ['psql', '-X', '-q', '-A', '-t', '-F', SEP, '-v', 'ON_ERROR_STOP=1',
                     '--port=%d' % port, '--username=%s' % user, '--dbname=%s' % dbname]
        self.dbname = dbname
        self.proc = None
        self.stderr = None
        self.count = 0

    def __enter__(self):
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = self.spawn(self.argv, subprocess.PIPE, subprocess.PIPE, self.stderr)
        except OSError as exc:
            raise PlatformError('cannot run %s: %s' % (self.argv[0], exc.strerror))
        return self

    def rows(self, statement, **variables):
        """Run one statement (``:'name'``/``:"name"`` for ``variables``); its rows as lists of strings."""
        self.count += 1
        marker = '__quickbite_ops_end_%d__' % self.count
        script = ''.join('\\set %s %s\n' % (key, psql_quote(value)) for key, value in variables.items())
        script += '%s\n;\n\\echo %s\n' % (statement.rstrip().rstrip(';'), marker)
        try:
            self.proc.stdin.write(script.encode('utf-8'))
            self.proc.stdin.flush()
        except (IOError, OSError):
            raise self._error()
        rows = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise self._error()
            line = line.decode('utf-8', 'replace').rstrip('\n')
            if line == marker:
                return rows
            if line:
                rows.append(line.split(SEP))

    def _error(self):
        self.close()
        self.stderr.seek(0)
        text = self.stderr.read().decode('utf-8', 'replace').strip()
        return PlatformError('psql in the postgres container (database %s) failed: %s'
                             % (self.dbname, text.splitlines()[-1] if text else 'exit %s' % self.proc.returncode))

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (IOError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc):
        self.close()
        return False


def flyway_state(session):
    if session.rows("SELECT to_regclass('public.flyway_schema_history') IS NOT NULL")[0][0] != 't':
        return None, None
    version, failed = session.rows(FLYWAY)[0]
    return version or None, int(failed)


def row_counts(session):
    return dict((table_key(schema, name), int(count)) for schema, name, count in session.rows(COUNTS))


def version_text(num):
    num = int(num)
    return '%d.%d' % (num // 10000, num % 10000) if num >= 100000 else str(num)


class ExecSnapshot(object):
    """Snapshot (see snapshot.Snapshot) held by psql inside the container."""

    def __init__(self, spawn, port, dbname):
        self.session = PsqlSession(spawn, port, dbname)
        self.id = None
        self.facts = {}

    def __enter__(self):
        self.session.__enter__()
        try:
            self.session.rows('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
            snap, size, num = self.session.rows("SELECT pg_export_snapshot(), pg_database_size(current_database()), "
                                                "current_setting('server_version_num')")[0]
            version, failed = flyway_state(self.session)
        except PlatformError:
            self.session.close()
            raise
        self.id = snap
        self.facts = dict(server_version=version_text(num), database_size=int(size), flyway_version=version,
                          flyway_failed_rows=failed)
        return self

    def count_rows(self):
        return row_counts(self.session)

    def __exit__(self, *exc):
        self.session.close()
        return False


class ExecAdmin(object):
    """restore.Admin's operations through psql in the container, as postgres."""

    def __init__(self, spawn, port, owner, admin_db='postgres'):
        self.spawn, self.port, self.owner, self.admin_db = spawn, port, owner, admin_db

    def _rows(self, statement, dbname=None, **variables):
        with PsqlSession(self.spawn, self.port, dbname or self.admin_db) as session:
            return session.rows(statement, **variables)

    def exists(self, name):
        return bool(self._rows('SELECT 1 FROM pg_database WHERE datname = :\'name\'', name=name))

    def create(self, name):
        self._rows('CREATE DATABASE :"name" OWNER :"owner"', name=name, owner=self.owner)

    def drop(self, name):
        self._rows('DROP DATABASE IF EXISTS :"name" WITH (FORCE)', name=name)

    def rename(self, old, new):
        self._rows('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :\'old\' '
                   'AND pid <> pg_backend_pid()', old=old)
        self._rows('ALTER DATABASE :"old" RENAME TO :"new"', old=old, new=new)

    def inspect(self, name):
        with PsqlSession(self.spawn, self.port, name) as session:
            version, failed = flyway_state(session)
            return row_counts(session), version, failed
