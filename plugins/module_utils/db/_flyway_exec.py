# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQL side of flyway_repair through psql inside the database's container
or pod (``access: exec``): the same reads and the same one-transaction repair
as _flyway_table.py, with the same signatures (``flyway.run`` takes either).

Identifiers and values reach SQL as psql variables (``:"name"``, ``:'value'``,
exec_sql.PsqlSession); rows come back as JSON, so NULLs, newlines and the
field separator survive."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.quickbite.ops.plugins.module_utils.db._flyway_table import COLUMNS, LOCK_TIMEOUT, TABLE
from ansible_collections.quickbite.ops.plugins.module_utils.db.exec_sql import PsqlSession
from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError, PlatformError, VerificationError

LOCATE = ("SELECT n.nspname, c.relname, current_setting('search_path') FROM pg_catalog.pg_class c "
          "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(:'history')")
SELECT = ('SELECT row_to_json(h)::text FROM (SELECT %s FROM :"schema".:"history" ORDER BY installed_rank) h'
          % ', '.join(COLUMNS))


def _row(text):
    row = json.loads(text)
    if row.get('installed_on'):
        row['installed_on'] = row['installed_on'].replace('T', ' ')  # as psycopg2's isoformat(' ')
    return dict((column, row.get(column)) for column in COLUMNS)


class ExecTable(object):
    """flyway_schema_history through psql in the container: ``spawn`` is the
    adapter's exec_spawn() starter, ``port`` PostgreSQL's port inside it."""

    def __init__(self, spawn, port, timeout, where='the database container'):
        self.spawn, self.port, self.timeout = spawn, port, timeout
        self.where = where

    def _session(self, target):
        return PsqlSession(self.spawn, self.port, target.dbname, timeout=self.timeout)

    @staticmethod
    def _locate(session, target):
        found = session.rows(LOCATE, history=TABLE)
        if not found:
            path = session.rows('SHOW search_path')[0][0]
            raise NotFoundError('table %s not found in database %s (search_path %s): Flyway has not run against this '
                                "database; check quickbite_db_name (the backend's own database)"
                                % (TABLE, target.dbname, path))
        return found[0][0]

    @staticmethod
    def _select(session, schema):
        return [_row(line[0]) for line in session.rows(SELECT, schema=schema, history=TABLE)]

    def read(self, target):
        """(schema, rows) of the history table, oldest first."""
        with self._session(target) as session:
            schema = self._locate(session, target)
            return schema, self._select(session, schema)

    def free_name(self, target, schema, wanted):
        """``wanted``, or ``wanted_2``, ``_3``... when a backup of that second exists."""
        with self._session(target) as session:
            name, n = wanted, 1
            while session.rows("SELECT to_regclass(format('%I.%I', :'schema', :'name')) IS NOT NULL",
                               schema=schema, name=name)[0][0] == 't':
                n += 1
                name = '%s_%d' % (wanted, n)
            return name

    def repair(self, target, schema, backup, expected, comment):
        """As _flyway_table.repair: copy and delete in one transaction under
        an EXCLUSIVE lock; psql is ended without COMMIT when anything is not
        as expected, so PostgreSQL rolls it all back."""
        names = dict(schema=schema, history=TABLE, backup=backup)
        try:
            with self._session(target) as session:
                session.rows('BEGIN')
                session.rows("SET LOCAL lock_timeout = :'timeout'", timeout=LOCK_TIMEOUT)
                session.rows('LOCK TABLE :"schema".:"history" IN EXCLUSIVE MODE', **names)
                rows = self._select(session, schema)
                failed = [r['installed_rank'] for r in rows if not r['success']]
                wanted = [r['installed_rank'] for r in expected]
                if failed != wanted:
                    raise VerificationError('%s changed since it was read (failed rows now at installed_rank %s, '
                                            'expected %s); nothing was changed; run again' % (TABLE, failed, wanted))
                session.rows('CREATE TABLE :"schema".:"backup" AS TABLE :"schema".:"history"', **names)
                session.rows('COMMENT ON TABLE :"schema".:"backup" IS :\'comment\'', comment=comment, **names)
                copied = int(session.rows('SELECT count(*) FROM :"schema".:"backup"', **names)[0][0])
                if copied != len(rows):
                    raise VerificationError('backup %s holds %d rows, %s %d; nothing was changed'
                                            % (backup, copied, TABLE, len(rows)))
                deleted = sorted((_row(line[0]) for line in session.rows(
                    'WITH gone AS (DELETE FROM :"schema".:"history" WHERE success = false RETURNING *) '
                    'SELECT row_to_json(g)::text FROM gone g', **names)), key=lambda r: r['installed_rank'])
                if [r['installed_rank'] for r in deleted] != failed:
                    raise VerificationError('the DELETE removed rows %s, expected %s; nothing was changed'
                                            % ([r['installed_rank'] for r in deleted], failed))
                left = self._select(session, schema)  # in the transaction, as _flyway_table.repair
                session.rows('COMMIT')
        except PlatformError as exc:
            raise PlatformError('repair of %s in database %s failed, nothing was changed: %s'
                                % (TABLE, target.dbname, exc.msg))
        return copied, deleted, left
