# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading a backup into a database, and the database-level steps around it
(create, drop, rename, compare with the manifest), through an admin
connection. Every statement names databases with sql.Identifier."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import os

from ansible_collections.quickbite.ops.plugins.module_utils.db import integrity
from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import first_line, psycopg2, sql
from ansible_collections.quickbite.ops.plugins.module_utils.db.integrity import DECOMPRESS
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage
from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import OWN_OBJECTS, flyway_state, row_counts
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError


def admin_target(module, target, adapter):
    """The admin role's connection: it creates, drops and renames databases."""
    p = module.params
    password = p['admin_password'] or adapter.get_config('POSTGRES_PASSWORD')
    if password:
        module.no_log_values.add(password)
    return target.login(p['admin_db'], p['admin_user'], password)


class Admin(object):
    def __init__(self, target, owner):
        self.target = target
        self.owner = owner

    def _execute(self, what, statement, params=None, dbname=None):
        conn = self.target.connect(dbname=dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else None
        except psycopg2.Error as exc:
            raise PlatformError('%s failed: %s' % (what, first_line(exc)))
        finally:
            conn.close()

    def exists(self, name):
        return bool(self._execute('looking up database %s' % name,
                                  'SELECT 1 FROM pg_database WHERE datname = %s', (name,)))

    def create(self, name):
        self._execute('CREATE DATABASE %s' % name, sql.SQL('CREATE DATABASE {} OWNER {}').format(
            sql.Identifier(name), sql.Identifier(self.owner)))

    def drop(self, name):
        # FORCE (PostgreSQL 13+) ends the sessions still connected, as the runbook's drop would need.
        self._execute('DROP DATABASE %s' % name, sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(
            sql.Identifier(name)))

    def rename(self, old, new):
        self._execute('terminating sessions on %s' % old,
                      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s '
                      'AND pid <> pg_backend_pid()', (old,))
        self._execute('renaming database %s to %s' % (old, new), sql.SQL('ALTER DATABASE {} RENAME TO {}').format(
            sql.Identifier(old), sql.Identifier(new)))

    def comment(self, name):
        """COMMENT ON DATABASE of ``name`` (None without one or without the database)."""
        rows = self._execute('reading the comment of database %s' % name,
                             "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                             (name,))
        return rows[0][0] if rows else None

    def set_comment(self, name, text):
        self._execute('COMMENT ON DATABASE %s' % name, sql.SQL('COMMENT ON DATABASE {} IS {}').format(
            sql.Identifier(name), sql.Literal(text)))

    def holds_nothing(self, name):
        rows = self._execute('looking into database %s' % name, OWN_OBJECTS, dbname=name)
        return rows[0][0] == 0

    def inspect(self, name):
        """(row counts, newest Flyway version, failed Flyway rows) of database ``name``."""
        conn = self.target.connect(dbname=name)
        try:
            with conn.cursor() as cur:
                version, failed = flyway_state(cur)
                return row_counts(cur), version, failed
        except psycopg2.Error as exc:
            raise PlatformError('reading database %s failed: %s' % (name, first_line(exc)))
        finally:
            conn.close()


def _psql_restricts(client):
    """Whether the psql that loads knows \\restrict (PostgreSQL 13.22, 14.19,
    15.14, 16.10, 17.6 and later): its own list of commands says."""
    known = getattr(client, '_psql_restricts', None)
    if known is None:
        pipe = Pipeline([client.stage('psql', ['--help=commands'])])
        try:
            out = pipe.start()
            text = out.read()
            out.close()
            pipe.wait()
        except PipelineError:
            text = b''
        known = b'\\restrict' in text
        client._psql_restricts = known
    return known


def psql_guard(path, comp, client):
    """A random key for psql's own \\restrict mode when the dump does not
    start it itself (pg_dump before 15.14) and psql knows it: then psql
    refuses every meta-command of the dump, whatever the scan (integrity)
    may have missed. None when the dump restricts psql itself or psql cannot."""
    if integrity.own_restrict_key(path, comp) or not _psql_restricts(client):
        return None
    return binascii.hexlify(os.urandom(16)).decode('ascii')


def owner_stage(client, program, args, dbname, guard=None):
    """``program`` (psql or pg_restore) loading into ``dbname`` as the
    database's owner (the application role), never the superuser: over libpq
    it connects as the owner; in the container peer authentication admits
    only postgres, so it takes the owner's role first (pg_restore --role,
    psql SET ROLE), which a hostile dump could undo: there the meta-command
    scan and \\restrict (``guard``) are the guards."""
    owner = client.target.user
    first = ['-c', '\\restrict %s' % guard] if guard else []
    if client.in_container:
        if program == 'pg_restore':
            return client.stage(program, ['--role=%s' % owner] + list(args), dbname=dbname)
        first += ['-c', 'SET ROLE "%s"' % owner.replace('"', '""')]
    if first:
        args = list(args) + first + ['-f', '-']
    return client.stage(program, args, dbname=dbname, as_admin=False)


def load_stages(path, fmt, comp, client, dbname, jobs=1):
    """Pipeline stages that load backup ``path`` into the existing, empty
    database ``dbname``, as its owner (owner_stage); (stages, source file or
    None). Archives go through stdin wherever they can, so the same stages
    work on this host and in the container."""
    restore = ['--no-password', '--exit-on-error']
    if fmt == 'plain':
        psql = owner_stage(client, 'psql', ['--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
                                            '--single-transaction'], dbname, psql_guard(path, comp, client))
        if comp == 'none':
            return [psql], path
        return [Stage(DECOMPRESS[comp], label=comp), psql], path
    if fmt == 'directory':
        client.require_files_here('restoring a directory-format backup')
        extra = ['--jobs=%d' % jobs] if jobs > 1 else ['--single-transaction']
        return [owner_stage(client, 'pg_restore', restore + extra + [path], dbname)], None
    pg_restore = owner_stage(client, 'pg_restore', restore + ['--single-transaction'], dbname)
    if comp == 'zstd':
        return [Stage(DECOMPRESS['zstd'], label='zstd'), pg_restore], path
    return [pg_restore], path


def require_jobs(jobs, option):
    if jobs is not None and jobs < 1:
        raise ConfigError('refusing %s=%d: it is the number of connections that load the backup; set it to 1 (one '
                          'transaction) or more; nothing was touched' % (option, jobs))


def load(path, fmt, comp, client, dbname, jobs=1, check=None, inspect=None):
    """Load and return the pipeline (its duration and stages). With ``jobs``
    above 1 a plain dump loads over that many connections (parallel_load).
    ``check`` (integrity.StreamedCheck, parallel loads only) checks the backup
    on the way; its lines are then the pipeline's ``check_lines``.
    ``inspect`` (a callable: the loaded database's row counts...) gives the
    pipeline's ``inspected``: a parallel load calls it beside its foreign
    keys, any other load after it ends."""
    if fmt == 'plain' and jobs > 1:
        from ansible_collections.quickbite.ops.plugins.module_utils.db.parallel_load import plain_load
        pipe = plain_load(path, comp, client, dbname, jobs, DECOMPRESS.get(comp), check, inspect)
        try:
            pipe.run()
        except PipelineError as exc:
            raise PipelineError('loading %s into database %s failed: %s' % (path, dbname, exc.msg),
                                stages=pipe.report())
        pipe.check_lines = check.conclude() if check is not None else []
        pipe.inspected = pipe.beside_result
        return pipe
    if check is not None:
        raise ValueError('a backup is checked while loading only by a parallel load of plain SQL')
    stages, source = load_stages(path, fmt, comp, client, dbname, jobs)
    pipe = Pipeline(stages, source=source)
    pipe.check_lines = []  # checked before the load, not on the way
    try:
        out = pipe.start()
        while out.read1(1 << 16):
            pass
        out.close()
    except BaseException:
        pipe.kill()
        raise
    try:
        pipe.wait()
    except PipelineError as exc:
        raise PipelineError('loading %s into database %s failed: %s' % (path, dbname, exc.msg), stages=pipe.report())
    pipe.inspected = inspect() if inspect is not None else None
    return pipe


def compare(manifest, counts, version, failed):
    """Checks of a restored database against the manifest: [(check, ok, evidence)]."""
    checks = [('no failed Flyway migrations', not failed,
               'flyway_schema_history has %s failed row(s)' % (failed or 0) if version is not None
               else 'no flyway_schema_history table')]
    if manifest is None:
        checks.append(('manifest', True, 'no manifest (a backup not made by pg_backup): row counts not compared'))
        return checks
    want = manifest.get('flyway_version')
    checks.append(('Flyway version matches the manifest', want == version,
                   'restored %s, manifest %s' % (version, want)))
    tables = manifest.get('tables')
    if tables is None:
        checks.append(('row counts', True, 'the backup recorded no row counts'))
        return checks
    wrong = ['%s: %s restored, %s at backup' % (name, counts.get(name, 'missing'), rows)
             for name, rows in sorted(tables.items()) if counts.get(name) != rows]
    extra = sorted(set(counts) - set(tables))
    if extra:
        wrong.append('tables not in the backup: %s' % ', '.join(extra))
    checks.append(('row counts of %d tables match the manifest' % len(tables), not wrong,
                   '; '.join(wrong) if wrong else '%d rows in all' % sum(tables.values())))
    return checks


def require_distinct(live, other, option):
    if other == live:
        raise ConfigError('%s must not be the live database %s' % (option, live))
