"""The backend's database address read from its environment, its secrets
shown by fingerprint, and the backend's log lines sorted into the runbook's
causes (diagnose/_dbaddress.py)."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import _dbaddress


@pytest.mark.parametrize('env, host, port, database', [
    ({'SPRING_DATASOURCE_URL': 'jdbc:postgresql://db.internal:6432/orders?sslmode=require'}, 'db.internal', 6432,
     'orders'),
    ({'SPRING_DATASOURCE_URL': 'jdbc:postgresql://postgres/quickbite', 'DB_HOST': 'ignored'}, 'postgres', 5432,
     'quickbite'),
    ({'SPRING_DATASOURCE_URL': 'jdbc:postgresql://[::1]:15432/quickbite'}, '::1', 15432, 'quickbite'),
    ({'SPRING_DATASOURCE_URL': 'jdbc:postgresql://pg-a:5433,pg-b:5433/quickbite'}, 'pg-a', 5433, 'quickbite'),
    ({'DB_HOST': '127.0.0.1', 'DB_PORT': '15432', 'DB_NAME': 'quickbite'}, '127.0.0.1', 15432, 'quickbite'),
    ({'DB_HOST': 'postgres', 'DB_NAME': 'quickbite'}, 'postgres', 5432, 'quickbite'),
])
def test_the_address_spring_or_the_db_keys(env, host, port, database):
    found = _dbaddress.address(dict(env, DB_PASSWORD='s3cret-password'))
    assert (found['host'], found['port'], found['database']) == (host, port, database)
    assert found['password_fingerprint'] == fingerprint('s3cret-password')


def test_no_database_named():
    assert _dbaddress.address({'SERVER_PORT': '8080'}) is None


def test_secrets_shown_by_fingerprint_with_their_origin():
    shown = _dbaddress.shown({'DB_PASSWORD': 'hunter2-hunter2', 'DB_HOST': 'postgres', 'JWT_SECRET': 'x' * 40},
                             {'DB_PASSWORD': 'secretKeyRef quickbite-secrets/DB_PASSWORD', 'DB_HOST': 'env'},
                             ['*PASSWORD*', '*SECRET*'])
    assert shown == {'DB_HOST': {'value': 'postgres', 'origin': 'env'},
                     'DB_PASSWORD': {'value': '******** (fingerprint %s)' % fingerprint('hunter2-hunter2'),
                                     'origin': 'secretKeyRef quickbite-secrets/DB_PASSWORD'}}


@pytest.mark.parametrize('lines, cause', [
    (['HikariPool-1 - Connection to 127.0.0.1:15433 refused or failed, retrying (OperationalError)'], 'refused'),
    (['Caused by: org.postgresql.util.PSQLException: Connection to postgres:5432 refused. Check that the hostname'],
     'refused'),
    (['FATAL:  password authentication failed for user "quickbite"'], 'password'),
    (['FATAL:  database "quickbit" does not exist'], 'database'),
    (['java.net.UnknownHostException: postgres-old'], 'host'),
    (['FlywayValidateException: Validate failed: Detected failed migration to version 4 (x)'], 'flyway'),
    # The last line that names a cause wins: the retries before the final error do not.
    (['refused or failed, retrying', 'FATAL:  password authentication failed for user "quickbite"'], 'password'),
    (['Started QuickBiteApplication in 1.2 seconds'], None),
])
def test_log_lines_classified(lines, cause):
    assert _dbaddress.classify(lines)[0] == cause
