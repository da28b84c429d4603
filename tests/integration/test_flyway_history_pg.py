"""flyway_repair's transaction on a real PostgreSQL 15 (no stack): a backend
that starts right after the repair commits, and fails its migration again,
writes a new failed row. The repair reports the rows its own transaction left
(none failed): the new failure is the restart's to report, with the backend's
log (cc35 failed with "still has failed rows after the repair" when the
stack's crash-looping backend did this between the commit and a second read)."""
import psycopg2
import pytest

from pgcluster import FLYWAY_HISTORY_TABLE, Cluster

from ansible_collections.quickbite.ops.plugins.module_utils.db import _flyway_table

pytestmark = [pytest.mark.integration]

ROWS = FLYWAY_HISTORY_TABLE + """
INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,
                                   execution_time, success) VALUES
    (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 1, current_user, 5, true),
    (2, '900', 'add loyalty points', 'SQL', 'V900__add_loyalty_points.sql', 3, current_user, 7, false);
"""
RETRY = ("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
         "installed_by, execution_time, success) VALUES (2, '900', 'add loyalty points', 'SQL', "
         "'V900__add_loyalty_points.sql', 3, current_user, 7, false)")


class _Target(object):
    """The database as the module's target gives it: connect() and describe()."""

    def __init__(self, port, after_commit):
        self.port, self.after_commit = port, after_commit

    def describe(self):
        return 'database quickbite on 127.0.0.1:%d' % self.port

    def connect(self, autocommit=True):
        conn = psycopg2.connect(host='127.0.0.1', port=self.port, dbname='quickbite', user='postgres',
                                password='pw', connection_factory=_Connection)
        conn.autocommit = autocommit
        conn.after_commit = self.after_commit
        return conn


class _Connection(psycopg2.extensions.connection):
    def commit(self):
        super(_Connection, self).commit()
        self.after_commit()  # the backend starts here and fails V900 again


@pytest.fixture(scope='module')
def pg():
    with Cluster() as cluster:
        cluster.psql("ALTER ROLE postgres PASSWORD 'pw'; CREATE DATABASE quickbite;")
        yield cluster


def test_the_repair_reports_what_its_transaction_left_not_a_failure_recorded_after_it(pg):
    pg.psql('DROP TABLE IF EXISTS flyway_schema_history; ' + ROWS, db='quickbite')
    retried = []

    def backend_retries():
        pg.psql(RETRY, db='quickbite')
        retried.append(True)
    target = _Target(pg.port, backend_retries)
    schema, rows = _flyway_table.read(target)
    copied, deleted, left = _flyway_table.repair(target, schema, 'flyway_schema_history_backup_1',
                                                 [r for r in rows if not r['success']], 'test')
    assert retried and copied == 2 and [r['installed_rank'] for r in deleted] == [2]
    assert [(r['installed_rank'], r['success']) for r in left] == [(1, True)]  # what the repair's transaction left
    # the failure the backend wrote after the commit is there, for the restart's check to report
    assert pg.psql('SELECT string_agg(installed_rank || \' \' || success, \',\' ORDER BY installed_rank) '
                   'FROM flyway_schema_history', db='quickbite') == '1 true,2 false'
