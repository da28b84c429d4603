# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SQL inside the postgres container, for deployments whose database is not
reachable from the host (``access: exec``): one ``psql`` kept open through
``docker compose exec`` (or a pod's exec), connected over the local socket as
the postgres OS user (peer authentication, so no password travels at all).

Values reach SQL as psql variables, quoted by psql itself (``:'v'`` a
literal, ``:"v"`` an identifier), never pasted into the statement. Nor are
they pasted into psql's input: only their hex digits travel on its stdin, the
server decodes them and ``\\gset`` stores the result in the variable, so no
byte of a value (a newline, a backslash) can reach psql as a command.

Every statement has ``timeout`` seconds: PostgreSQL cancels it then
(``statement_timeout``) and the read here gives up, killing psql, so a hung
session fails with a message instead of hanging the task."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os
import re
import select
import subprocess
import tempfile
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import conninfo_quote, dbname_arg
from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import OWN_OBJECTS, UNREADABLE, table_key, unreadable_error
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.health.exec_checks import run

SEP = '\x1f'
VARIABLE_RE = re.compile(r'\A[a-z_][a-z0-9_]*\Z')
DEFAULT_TIMEOUT = 600
TIMEOUT_VARIABLE = 'quickbite_db_exec_timeout (option exec_timeout)'
COUNTS = r"""SELECT format('SELECT %L, %L, count(*) FROM %I.%I', n.nspname, c.relname, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1 \gexec"""
FLYWAY = """SELECT (SELECT version FROM public.flyway_schema_history WHERE success AND version IS NOT NULL
                ORDER BY installed_rank DESC LIMIT 1), (SELECT count(*) FROM public.flyway_schema_history
                WHERE NOT success)"""


def set_variable(name, value):
    """psql input setting variable ``name`` to ``value``: only the hex digits
    of the value's UTF-8 bytes appear in it."""
    if not VARIABLE_RE.match(name):
        raise ValueError('psql variable name %r' % name)
    digits = binascii.hexlify(str(value).encode('utf-8')).decode('ascii')
    return "SELECT convert_from(decode('%s', 'hex'), 'UTF8') AS %s \\gset\n" % (digits, name)


def _readable(fd, seconds):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(max(0, int(seconds * 1000))))


class PsqlSession(object):
    def __init__(self, spawn, port, dbname, user='postgres', timeout=DEFAULT_TIMEOUT):
        self.spawn = spawn
        self.argv = ['psql', '-X', '-q', '-A', '-t', '-F', SEP, '-v', 'ON_ERROR_STOP=1',
                     '--port=%d' % port, '--username=%s' % user, dbname_arg(dbname)]
        self.dbname = dbname
        self.timeout = timeout
        self.proc = None
        self.stderr = None
        self.count = 0
        self._pending = b''

    def __enter__(self):
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = self.spawn(self.argv, subprocess.PIPE, subprocess.PIPE, self.stderr)
        except OSError as exc:
            raise PlatformError('cannot run %s: %s' % (self.argv[0], exc.strerror))
        try:
            self.rows('SET statement_timeout = %d' % (self.timeout * 1000))
        except BaseException:
            self.kill()
            raise
        return self

    def rows(self, statement, **variables):
        """Run one statement (``:'name'``/``:"name"`` for ``variables``); its
        rows as lists of strings, within ``timeout`` seconds."""
        self.count += 1
        marker = '__quickbite_ops_end_%d__' % self.count
        script = ''.join(set_variable(key, value) for key, value in sorted(variables.items()))
        script += '%s\n;\n\\echo %s\n' % (statement.rstrip().rstrip(';'), marker)
        deadline = time.monotonic() + self.timeout
        try:
            self.proc.stdin.write(script.encode('utf-8'))
            self.proc.stdin.flush()
        except (IOError, OSError):
            raise self._error()
        rows = []
        while True:
            line = self._readline(deadline)
            if line is None:
                raise self._error()
            if line == marker:
                return rows
            if line:
                rows.append(line.split(SEP))

    def _readline(self, deadline):
        """The next line of psql's output; None at its end. Raises once ``deadline`` passed."""
        fd = self.proc.stdout.fileno()
        while b'\n' not in self._pending:
            if not _readable(fd, deadline - time.monotonic()):
                self.kill()
                raise PlatformError('psql in the postgres container (database %s) did not answer within %d s: it was '
                                    'killed, and PostgreSQL cancels its statement at the same limit '
                                    '(statement_timeout); look in pg_stat_activity for a lock it waited on, or set %s '
                                    'higher if the database needs longer'
                                    % (self.dbname, self.timeout, TIMEOUT_VARIABLE))
            block = os.read(fd, 1 << 16)
            if not block:
                return None
            self._pending += block
        line, self._pending = self._pending.split(b'\n', 1)
        return line.decode('utf-8', 'replace')

    def _error(self):
        self.close()
        self.stderr.seek(0)
        text = self.stderr.read().decode('utf-8', 'replace').strip()
        last = text.splitlines()[-1] if text else 'exit %s' % self.proc.returncode
        if 'statement timeout' in last:
            last += ' (after %d s; set %s higher if the database needs longer)' % (self.timeout, TIMEOUT_VARIABLE)
        return PlatformError('psql in the postgres container (database %s) failed: %s' % (self.dbname, last))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass

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

    def __init__(self, spawn, port, dbname, timeout=DEFAULT_TIMEOUT):
        self.session = PsqlSession(spawn, port, dbname, timeout=timeout)
        self.id = None
        self.facts = {}

    def __enter__(self):
        self.session.__enter__()
        try:
            self.session.rows('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
            snap, size, num = self.session.rows("SELECT pg_export_snapshot(), pg_database_size(current_database()), "
                                                "current_setting('server_version_num')")[0]
            version, failed = flyway_state(self.session)
            unreadable = self.session.rows(UNREADABLE)
        except PlatformError:
            self.session.close()
            raise
        if unreadable:
            self.session.close()
            raise unreadable_error(dbname=self.session.dbname, rows=unreadable)
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

    def __init__(self, spawn, port, owner, admin_db='postgres', timeout=DEFAULT_TIMEOUT):
        self.spawn, self.port, self.owner, self.admin_db = spawn, port, owner, admin_db
        self.timeout = timeout

    def _rows(self, statement, dbname=None, **variables):
        with PsqlSession(self.spawn, self.port, dbname or self.admin_db, timeout=self.timeout) as session:
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

    def comment(self, name):
        rows = self._rows("SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
                          "WHERE datname = :'name'", name=name)
        return rows[0][0] or None if rows else None

    def set_comment(self, name, text):
        self._rows('COMMENT ON DATABASE :"name" IS :\'text\'', name=name, text=text)

    def holds_nothing(self, name):
        return int(self._rows(OWN_OBJECTS, dbname=name)[0][0]) == 0

    def inspect(self, name):
        with PsqlSession(self.spawn, self.port, name, timeout=self.timeout) as session:
            version, failed = flyway_state(session)
            return row_counts(session), version, failed


# --------------------------------------------------------------------------- logins
LOGIN_OK = 'quickbite-ops-login-ok'


def connect_argument(conninfo):
    """psql's ``\\connect`` argument holding ``conninfo``: single quotes around
    a ``\\xHH`` escape of every byte, so no byte of it is psql syntax; inside,
    double quotes around it with its own doubled, as ``\\connect`` then reads
    the argument as a quoted identifier (a bare ``"`` would be dropped)."""
    text = '"%s"' % conninfo.replace('"', '""')
    return "'%s'" % ''.join('\\x%02x' % byte for byte in text.encode('utf-8'))


def login(spawn, port, admin_db, keywords, timeout):
    """Whether libpq logs in with ``keywords`` (host, port, dbname, user,
    password, ...) from inside the container: psql connects as postgres over
    the local socket, then ``\\connect``s with the connection string, which
    travels on psql's stdin only (never argv, never the server: psql
    unquotes it itself). (True, 'connected'), (False, libpq's refusal), or
    (None, why the login could not even be tried)."""
    conninfo = ' '.join('%s=%s' % (key, conninfo_quote(str(value))) for key, value in sorted(keywords.items())
                        if value is not None)
    script = '\\connect -reuse-previous=off %s\nSELECT %s;\n' % (connect_argument(conninfo), "'%s'" % LOGIN_OK)
    argv = ['psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '--port=%d' % int(port), '--username=postgres',
            dbname_arg(admin_db)]
    code, out, err = run(spawn, argv, script.encode('utf-8'), max(1, int(timeout)))
    if code == 0 and LOGIN_OK in out.split():
        return True, 'connected'
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    refused = [line[len('\\connect:'):].strip() for line in lines if line.startswith('\\connect:')]
    if refused:
        return False, refused[0]
    if code is None:
        return None, 'psql as postgres did not answer within %s s' % timeout
    return None, 'psql as postgres over the local socket failed before the login: %s' % (
        lines[0] if lines else 'exit code %s' % code)
