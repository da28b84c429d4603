# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading a backup into a database, and the database-level steps around it
(create, drop, rename, compare with the manifest), through an admin
connection. Every statement names databases with sql.Identifier."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import first_line, psycopg2, sql
from ansible_collections.quickbite.ops.plugins.module_utils.db.integrity import DECOMPRESS
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage
from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import flyway_state, row_counts
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError


def admin_argument_spec():
    return dict(
        admin_user=dict(type='str', default='postgres'),
        admin_password=dict(type='str', no_log=True),
        admin_db=dict(type='str', default='postgres'),
    )


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


def load_stages(path, fmt, comp, client, dbname, jobs=1):
    """Pipeline stages that load backup ``path`` into the existing, empty
    database ``dbname``, as the admin role; (stages, source file or None).
    Archives go through stdin wherever they can, so the same stages work
    on this host and in the container."""
    restore = ['--no-password', '--exit-on-error']
    if fmt == 'plain':
        psql = client.stage('psql', ['--no-password', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction'],
                            dbname=dbname, as_admin=True)
        if comp == 'none':
            return [psql], path
        return [Stage(DECOMPRESS[comp], label=comp), psql], path
    if fmt == 'directory':
        client.require_files_here('restoring a directory-format backup')
        extra = ['--jobs=%d' % jobs] if jobs > 1 else ['--single-transaction']
        return [client.stage('pg_restore', restore + extra + [path], dbname=dbname, as_admin=True)], None
    pg_restore = client.stage('pg_restore', restore + ['--single-transaction'], dbname=dbname, as_admin=True)
    if comp == 'zstd':
        return [Stage(DECOMPRESS['zstd'], label='zstd'), pg_restore], path
    return [pg_restore], path


def load(path, fmt, comp, client, dbname, jobs=1):
    """Load and return the pipeline (its duration and stages). With ``jobs``
    above 1 a plain dump loads over that many connections (parallel_load)."""
    if fmt == 'plain' and jobs > 1:
        from ansible_collections.quickbite.ops.plugins.module_utils.db.parallel_load import plain_load
        pipe = plain_load(path, comp, client, dbname, jobs, DECOMPRESS.get(comp))
        try:
            return pipe.run()
        except PipelineError as exc:
            raise PipelineError('loading %s into database %s failed: %s' % (path, dbname, exc.msg),
                                stages=pipe.report())
    stages, source = load_stages(path, fmt, comp, client, dbname, jobs)
    pipe = Pipeline(stages, source=source)
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
