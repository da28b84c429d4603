# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQL side of flyway_repair: read flyway_schema_history, and in one
transaction copy it to a backup table and delete its failed rows.

Identifiers go through psycopg2.sql.Identifier, values as parameters."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import first_line, psycopg2, sql
from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError, PlatformError, VerificationError

TABLE = 'flyway_schema_history'
COLUMNS = ('installed_rank', 'version', 'description', 'type', 'script', 'checksum', 'installed_by',
           'installed_on', 'execution_time', 'success')
LOCK_TIMEOUT = '10s'


def _row(values):
    row = dict(zip(COLUMNS, values))
    if row['installed_on'] is not None:
        row['installed_on'] = row['installed_on'].isoformat(' ')
    return row


def _locate(cur, target):
    """(schema, table) of flyway_schema_history as the connection's search_path finds it."""
    cur.execute("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(%s)", (TABLE,))
    found = cur.fetchone()
    if not found:
        raise NotFoundError('table %s not found in %s (search_path %s): Flyway has not run against this database; '
                            'check quickbite_db_name and quickbite_db_user (the backend\'s own database and role)'
                            % (TABLE, target.describe(), _search_path(cur)))
    return found


def _search_path(cur):
    cur.execute('SHOW search_path')
    return cur.fetchone()[0]


def _select(cur, schema, table):
    cur.execute(sql.SQL('SELECT {} FROM {} ORDER BY installed_rank').format(
        sql.SQL(', ').join(sql.Identifier(c) for c in COLUMNS), sql.Identifier(schema, table)))
    return [_row(values) for values in cur.fetchall()]


def read(target):
    """(schema, rows) of the history table, oldest first."""
    conn = target.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            schema, table = _locate(cur, target)
            return schema, _select(cur, schema, table)
    except psycopg2.Error as exc:
        raise PlatformError('unable to read %s in %s: %s' % (TABLE, target.describe(), first_line(exc)))
    finally:
        conn.close()


def free_name(target, schema, wanted):
    """``wanted``, or ``wanted_2``, ``_3``... when a backup of that second exists."""
    conn = target.connect(autocommit=True)
    try:
        with conn.cursor() as cur:
            name, n = wanted, 1
            while True:
                cur.execute('SELECT to_regclass(%s) IS NOT NULL', (sql.Identifier(schema, name).as_string(conn),))
                if not cur.fetchone()[0]:
                    return name
                n += 1
                name = '%s_%d' % (wanted, n)
    finally:
        conn.close()


def repair(target, schema, backup, expected, comment):
    """Copy the table to ``backup`` and delete its failed rows, in one
    transaction under a lock that keeps writers (a starting backend) out.
    ``expected`` are the failed rows the caller reported; the run stops,
    changing nothing, if the table holds others by then.
    Returns (rows copied, rows deleted, rows left), the rows left read in the
    same transaction: a backend that starts after the commit and fails the
    migration again writes a new failed row, which the restart's check
    reports, not this one."""
    conn = target.connect(autocommit=False)
    history, copy = sql.Identifier(schema, TABLE), sql.Identifier(schema, backup)
    try:
        with conn.cursor() as cur:
            cur.execute('SET LOCAL lock_timeout = %s', (LOCK_TIMEOUT,))
            cur.execute(sql.SQL('LOCK TABLE {} IN EXCLUSIVE MODE').format(history))
            rows = _select(cur, schema, TABLE)
            failed = [r['installed_rank'] for r in rows if not r['success']]
            wanted = [r['installed_rank'] for r in expected]
            if failed != wanted:
                raise VerificationError('%s changed since it was read (failed rows now at installed_rank %s, '
                                        'expected %s); nothing was changed; run again' % (TABLE, failed, wanted))
            cur.execute(sql.SQL('CREATE TABLE {} AS TABLE {}').format(copy, history))
            cur.execute(sql.SQL('COMMENT ON TABLE {} IS %s').format(copy), (comment,))
            cur.execute(sql.SQL('SELECT count(*) FROM {}').format(copy))
            copied = cur.fetchone()[0]
            if copied != len(rows):
                raise VerificationError('backup %s holds %d rows, %s %d; nothing was changed'
                                        % (backup, copied, TABLE, len(rows)))
            cur.execute(sql.SQL('DELETE FROM {} WHERE success = false RETURNING {}').format(
                history, sql.SQL(', ').join(sql.Identifier(c) for c in COLUMNS)))
            deleted = sorted((_row(values) for values in cur.fetchall()), key=lambda r: r['installed_rank'])
            if [r['installed_rank'] for r in deleted] != failed:
                raise VerificationError('the DELETE removed rows %s, expected %s; nothing was changed'
                                        % ([r['installed_rank'] for r in deleted], failed))
            left = _select(cur, schema, TABLE)
        conn.commit()
    except psycopg2.Error as exc:
        raise PlatformError('repair of %s in %s failed, nothing was changed: %s'
                            % (TABLE, target.describe(), first_line(exc)))
    finally:
        conn.close()  # without a commit, the transaction is rolled back: all or nothing
    return copied, deleted, left
