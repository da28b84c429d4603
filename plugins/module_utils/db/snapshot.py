# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a backup records about the database, read in the very snapshot that
pg_dump dumps (``pg_export_snapshot()`` + ``pg_dump --snapshot``): server
version, newest Flyway version and exact row counts, so a restore can be
checked against them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import first_line, psycopg2, server_version, sql
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError

TABLES = """
SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
 ORDER BY 1, 2
"""

FLYWAY = """
SELECT (SELECT version FROM {table} WHERE success AND version IS NOT NULL
         ORDER BY installed_rank DESC LIMIT 1),
       (SELECT count(*) FROM {table} WHERE NOT success)
"""


# What pg_dump cannot read as the connected role: tables and sequences (not
# an extension's) without SELECT, or in a schema without USAGE. One row each:
# qualified name, kind, schema, the privilege to grant, role, owner.
UNREADABLE = """
SELECT format('%I.%I', n.nspname, c.relname), CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END,
       quote_ident(n.nspname), CASE WHEN has_schema_privilege(n.oid, 'USAGE') THEN 'SELECT' ELSE 'USAGE' END,
       quote_ident(current_user), pg_get_userbyid(c.relowner)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.deptype = 'e')
   AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
 ORDER BY 1
"""


def unreadable_error(dbname, rows):
    """The refusal for UNREADABLE's rows: what, as whom, and the GRANT that fixes it."""
    role = rows[0][4]
    listed = ', '.join('%s %s (owner %s)' % (row[1], row[0], row[5]) for row in rows[:10])
    if len(rows) > 10:
        listed += ' and %d more' % (len(rows) - 10)
    grants = []
    schemas = sorted(set(row[2] for row in rows if row[3] == 'USAGE'))
    if schemas:
        grants.append('GRANT USAGE ON SCHEMA %s TO %s' % (', '.join(schemas), role))
    grants.append('GRANT SELECT ON %s TO %s' % (', '.join(row[0] for row in rows), role))
    return PlatformError('refusing to back up database %s: role %s cannot read %s (permission denied), and pg_dump '
                         'must read every table and sequence. As their owner or a superuser run: %s; or back up as '
                         'postgres inside the database container with quickbite_db_access=exec. Nothing was written'
                         % (dbname, role, listed, '; '.join(grants)), unreadable=[row[0] for row in rows])


def table_key(schema, name):
    return name if schema == 'public' else '%s.%s' % (schema, name)


def flyway_state(cur, schema='public'):
    """(newest successful version, failed row count), or (None, None) without a history table."""
    cur.execute('SELECT to_regclass(%s) IS NOT NULL', ('%s.flyway_schema_history' % schema,))
    if not cur.fetchone()[0]:
        return None, None
    cur.execute(sql.SQL(FLYWAY).format(table=sql.Identifier(schema, 'flyway_schema_history')))
    version, failed = cur.fetchone()
    return version, failed


# What a database holds of its own: relations, functions, types, schemas
# (but public), extensions (but plpgsql) and large objects. None (0) means
# dropping it loses nothing that CREATE DATABASE does not give back.
OWN_OBJECTS = """SELECT
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)')
  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
  + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)')
  + (SELECT count(*) FROM pg_namespace
     WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND nspname !~ '^pg_')
  + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
  + (SELECT count(*) FROM pg_largeobject_metadata)"""


def row_counts(cur):
    counts = {}
    cur.execute(TABLES)
    for schema, name in cur.fetchall():
        cur.execute(sql.SQL('SELECT count(*) FROM {}').format(sql.Identifier(schema, name)))
        counts[table_key(schema, name)] = cur.fetchone()[0]
    return counts


class Snapshot(object):
    """A read-only repeatable-read transaction held open for pg_dump."""

    def __init__(self, target):
        self.target = target
        self.conn = None
        self.id = None
        self.facts = {}

    def __enter__(self):
        self.conn = self.target.connect(autocommit=False, application='quickbite.ops.pg_backup')
        try:
            self.conn.set_session(isolation_level='REPEATABLE READ', readonly=True)
            with self.conn.cursor() as cur:
                cur.execute('SELECT pg_export_snapshot(), pg_database_size(current_database())')
                self.id, size = cur.fetchone()
                version, failed = flyway_state(cur)
                cur.execute(UNREADABLE)
                unreadable = cur.fetchall()
        except psycopg2.Error as exc:
            self.close()
            raise PlatformError('cannot open a snapshot of %s: %s' % (self.target.describe(), first_line(exc)))
        if unreadable:
            self.close()
            raise unreadable_error(self.target.dbname, unreadable)
        self.facts = dict(server_version=server_version(self.conn), database_size=size,
                          flyway_version=version, flyway_failed_rows=failed)
        return self

    def count_rows(self):
        try:
            with self.conn.cursor() as cur:
                return row_counts(cur)
        except psycopg2.Error as exc:
            raise PlatformError('counting rows in %s failed: %s' % (self.target.describe(), first_line(exc)))

    def close(self):
        if self.conn is not None:
            try:
                self.conn.rollback()
                self.conn.close()
            except psycopg2.Error:
                pass
            self.conn = None

    def __exit__(self, *exc):
        self.close()
        return False
