"""QuickBite's database on a throw-away PostgreSQL 15 (pgcluster) for the
Kubernetes tests that need a real database but not the reference stack: the
stand-in backend's migrations (users, orders, seed rows) applied as the owner,
passwords for the superuser and the application role, reached over TCP on
127.0.0.1 (as through a port-forward) or through the postgres pod's exec
(``exec_prefix``). Those modules then run in make test's no-stack lane, beside
the stack tests, instead of waiting for the stack lock."""
import glob
import os

import pytest

import dbtools
from conftest import ROOT
from pgcluster import Cluster

MIGRATIONS = os.path.join(ROOT, 'stack', 'backend', 'db', 'migration')


@pytest.fixture(scope='module')
def quickbite_pg():
    """A module's cluster: ``port``, ``passwords`` by role and ``env`` shaped
    like the stack's .env.prod; dbtools looks at it while the module runs."""
    with Cluster() as pg:
        pg.passwords = dict(postgres='pg-admin-' + os.urandom(12).hex(), quickbite='pg-app-' + os.urandom(12).hex())
        pg.psql("ALTER ROLE postgres PASSWORD '%(postgres)s'; CREATE ROLE quickbite LOGIN PASSWORD '%(quickbite)s';"
                ' CREATE DATABASE quickbite OWNER quickbite;' % pg.passwords)
        for path in sorted(glob.glob(os.path.join(MIGRATIONS, 'V*.sql')), key=_version):
            with open(path) as handle:
                pg.psql('SET ROLE quickbite;\n' + handle.read(), db='quickbite')
        pg.env = dict(POSTGRES_PASSWORD=pg.passwords['postgres'], DB_USER='quickbite', DB_NAME='quickbite',
                      DB_PASSWORD=pg.passwords['quickbite'], DB_PORT=str(pg.port))
        dbtools.use(pg)
        try:
            yield pg
        finally:
            dbtools.use(None)


def _version(path):
    return int(os.path.basename(path)[1:].split('__', 1)[0])
