"""parallel_load on a real PostgreSQL 15 (no stack), where nothing but the load
uses the database (autovacuum off): the tables a foreign key reads are vacuumed
after their data commits and before the key is checked, so every page is
all-visible when the check reads them (index-only scans); a table no foreign
key reads is not vacuumed. On the shared stack an older snapshot (autovacuum's
ANALYZE, a monitoring query) may keep VACUUM from marking some pages, which
costs the check time, not correctness: the stack's tests check that the
VACUUMs ran, this one what they leave."""
import os
import subprocess

import pytest

from pgcluster import Cluster

from ansible_collections.quickbite.ops.plugins.module_utils.db.parallel_load import ParallelLoad
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Stage

pytestmark = [pytest.mark.integration]

SOURCE = """
CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, name text);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), restaurant text,
                     total_amount numeric(10, 2));
CREATE INDEX idx_orders_user_id ON orders (user_id);
CREATE TABLE notes (id bigint PRIMARY KEY, note text);
INSERT INTO users (email, name) SELECT 'user' || n || '@example.com', 'User ' || n FROM generate_series(1, 3000) n;
INSERT INTO orders (user_id, restaurant, total_amount)
    SELECT 1 + n % 3000, 'Restaurant ' || n % 97, (n % 5000) / 10.0 FROM generate_series(1, 40000) n;
INSERT INTO notes SELECT n, 'note ' || n FROM generate_series(1, 2000) n;
"""
STATS = ("SELECT string_agg(s.relname || ' vacuumed ' || vacuum_count || ', all-visible '"
         " || (c.relallvisible = c.relpages AND c.relpages > 0), '; ' ORDER BY s.relname)"
         " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid")


@pytest.fixture(scope='module')
def cluster():
    with Cluster(settings=['autovacuum=off']) as running:
        running.psql('CREATE DATABASE src')
        running.psql(SOURCE, db='src')
        yield running


def test_foreign_key_tables_are_all_visible_before_the_key_is_checked(cluster):
    dump = os.path.join(cluster.dir, 'src.sql')
    subprocess.run(cluster.as_postgres(['pg_dump', '-p', str(cluster.port), '-d', 'src', '-f', dump]), check=True,
                   cwd=cluster.dir)
    cluster.psql('CREATE DATABASE loaded')

    def psql():
        return Stage(cluster.as_postgres(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-o', '/dev/null', '-p',
                                          str(cluster.port), '-d', 'loaded']), label='psql')
    load = ParallelLoad(dump, None, psql, 2).run()
    assert load.vacuums == 2
    assert cluster.psql(STATS, db='loaded') == ('notes vacuumed 0, all-visible false; orders vacuumed 1, all-visible '
                                                'true; users vacuumed 1, all-visible true')
    for table in ('users', 'orders', 'notes'):
        query = 'SELECT count(*), sum(hashtext(t::text)) FROM %s t' % table
        assert cluster.psql(query, db='loaded') == cluster.psql(query, db='src')
    # the server's statement log: each VACUUM after the data's COMMITs, before the foreign key
    log = cluster.server_log()
    fkey = log.index('ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY')
    commits = [n for n in range(len(log)) if log.startswith('statement: COMMIT', n)]
    for table in ('orders', 'users'):
        vacuum = log.index('statement: VACUUM public.%s;' % table)
        assert max(commits[:2]) < vacuum < fkey
