"""No port-forward for any database step (issue 12 item 9): flyway_repair and
the database password rotation (ALTER ROLE, the login tests with the old and
the new password) through the postgres pod's exec.

A real PostgreSQL 15 stands behind the emulator's exec (pgcluster: a
throw-away cluster of this host's binaries, the pod's commands run as the
postgres OS user, as in the reference stack's container), so this module
runs in the no-stack lane. quickbite_db_host points nowhere and the admin
password is wrong: libpq from the controller would fail. Every statement the
server ran is in its log (log_statement=all) and every command the pod ran in
the emulator's exec log: neither holds a password."""
import base64
import binascii
import json

import psycopg2
import pytest

from conftest import run_playbook
from k8s_defaults import emulator
from pgcluster import FLYWAY_HISTORY_TABLE, Cluster
from test_rotate_k8s import SEED, PodsBackend

from ansible_collections.quickbite.ops.plugins.module_utils.db import exec_sql
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

OLD = 'old-db-password-0123456789abcdef'
HISTORY = FLYWAY_HISTORY_TABLE + """
INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,
                                   execution_time, success) VALUES
    (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 1, current_user, 5, true),
    (2, NULL, E'it''s a \\\\ repeatable\\nwith a\\x1fseparator', 'SQL', 'R__odd.sql', NULL, current_user, 5, true),
    (3, '1.9', 'create orders', 'SQL', 'V1_9__create_orders.sql', 2, current_user, 5, true),
    (4, '1.10', 'add loyalty points', 'SQL', 'V1_10__add_loyalty_points.sql', 3, current_user, 7, false);
"""


@pytest.fixture(scope='module')
def pg():
    with Cluster() as cluster:
        cluster.psql("CREATE ROLE quickbite LOGIN PASSWORD '%s'; CREATE DATABASE quickbite OWNER quickbite;" % OLD)
        yield cluster


@pytest.fixture(scope='module')
def cluster(tmp_path_factory, pg):
    seed = dict(SEED, DB_PASSWORD=OLD, DB_USER='quickbite', DB_NAME='quickbite', DB_HOST='127.0.0.1',
                DB_PORT=str(pg.port))
    with emulator(tmp_path_factory, secrets=seed, exec_backends={'postgres': pg.exec_prefix}) as k8s:
        k8s.backend = PodsBackend(k8s.emulator)
        yield k8s
        k8s.backend.close()


@pytest.fixture
def db(pg, cluster):
    """The role's password, the history table and a backend that takes any password, as each test starts."""
    cluster.backend.refuse_new = False
    pg.psql("ALTER ROLE quickbite PASSWORD '%s'" % OLD)
    pg.psql('DROP TABLE IF EXISTS flyway_schema_history; ' + HISTORY, db='quickbite')
    for name in pg.psql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'flyway\\_schema\\_history\\_backup%'",
                        db='quickbite').split():
        pg.psql('DROP TABLE "%s"' % name, db='quickbite')
    return pg


def _vars(k8s, pg, tmp_path, **extra):
    """Exec access (inventory/k8s's default); libpq from here would fail."""
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                quickbite_db_host='192.0.2.1', quickbite_db_port=pg.port, quickbite_db_admin_password='wrong',
                rotate_db_password_audit_log=str(tmp_path / 'rotation.log'), rotate_db_password_wait_timeout=60,
                flyway_repair_wait_timeout=60)
    base.update(extra)
    return base


def _login(pg, password):
    try:
        psycopg2.connect(host='127.0.0.1', port=pg.port, dbname='quickbite', user='quickbite', password=password,
                         connect_timeout=5).close()
        return True
    except psycopg2.Error:
        return False


def _secret(k8s):
    data = k8s.emulator.get('secrets', 'quickbite-secrets')['data']
    return dict((k, base64.b64decode(v).decode()) for k, v in data.items())


def _forms(*secrets):
    """A secret as it could leak: itself, its hex (exec_sql's \\gset scheme), psql's \\x escapes."""
    forms = []
    for secret in secrets:
        raw = secret.encode()
        forms += [secret, binascii.hexlify(raw).decode(), ''.join('\\x%02x' % b for b in raw)]
    return forms


def _leaks(k8s, pg, *secrets):
    argv = json.dumps([list(entry[2]) for entry in k8s.emulator.exec_log])
    log = pg.server_log()
    return [form for form in _forms(*secrets) if form in argv or form in log]


def test_rotation_and_rollback_through_pod_exec(k8s, db, tmp_path):
    pg = db
    run = run_playbook('rotate_db_password.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, pg, tmp_path))
    assert run.rc == 0, run.output[-3000:]
    new = _secret(k8s)['DB_PASSWORD']
    assert new != OLD and _login(pg, new) and not _login(pg, OLD)
    checks = dict((c['check'], c) for c in run.result('db_password_rotate')['checks'])
    assert checks['login with the new password']['ok'] and checks['login with the old password refused']['ok']
    assert 'password authentication failed' in checks['login with the old password refused']['evidence']
    assert 'from service postgres of namespace quickbite' in checks['login with the new password']['evidence']
    # Everything ran in the pod as psql: the ALTER ROLE and three logins (old and new, each once).
    assert set(entry[2][0] for entry in k8s.emulator.exec_log) == {'psql'}
    assert _leaks(k8s, pg, OLD, new) == []
    assert 'ALTER ROLE "quickbite" PASSWORD \'SCRAM-SHA-256$4096:' in pg.server_log()
    assert new not in run.output and OLD not in run.output

    # A backend that fails with the new password: the old one goes back into PostgreSQL and the Secret.
    k8s.backend.seed, k8s.backend.refuse_new = dict(k8s.backend.secrets), True
    k8s.emulator.exec_log.clear()
    run = run_playbook('rotate_db_password.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, pg, tmp_path, rotate_db_password_wait_timeout=15))
    assert run.rc != 0 and 'rotation of DB_PASSWORD rolled back' in run.output, run.output[-3000:]
    assert _secret(k8s)['DB_PASSWORD'] == new and _login(pg, new)
    tried = (tmp_path / 'rotation.log').read_text().splitlines()
    assert [json.loads(line)['outcome'] for line in tried] == ['rotated', 'rolled back']
    assert len([e for e in k8s.emulator.exec_log if e[2][0] == 'psql']) >= 3  # set, put back, login tests
    assert _leaks(k8s, pg, OLD, new) == []


def test_login_through_exec_takes_any_printable_password_and_tells_refusal_from_failure(k8s, db):
    """The connection string travels as \\x escapes on psql's stdin: every
    printable ASCII character (quotes, backslashes, spaces) logs in as it
    is; a wrong password is a refusal (False), a psql that cannot even start
    is no answer (None)."""
    pg = db
    tricky = ''.join(chr(c) for c in range(32, 127))  # every character a new password may hold
    pg.psql("ALTER ROLE quickbite PASSWORD '%s'" % tricky.replace("'", "''"))
    adapter = KubernetesAdapter(None, dict(namespace='quickbite', secret_name='quickbite-secrets', context=None,
                                           kubeconfig=k8s.kubeconfig, deployments={}))
    spawn = adapter.exec_spawn('postgres')
    keywords = dict(host='127.0.0.1', port=pg.port, dbname='quickbite', user='quickbite')
    assert exec_sql.login(spawn, pg.port, 'postgres', dict(keywords, password=tricky), 10) == (True, 'connected')
    works, detail = exec_sql.login(spawn, pg.port, 'postgres', dict(keywords, password=OLD), 10)
    assert works is False and 'password authentication failed for user "quickbite"' in detail
    works, detail = exec_sql.login(spawn, pg.port + 1 if pg.port < 65535 else 1, 'postgres',
                                   dict(keywords, password=tricky), 10)
    assert works is None and 'failed before the login' in detail
    assert _leaks(k8s, pg, tricky) == []


def test_flyway_report_and_repair_through_pod_exec(k8s, db, tmp_path):
    pg = db
    extra = _vars(k8s, pg, tmp_path)
    run = run_playbook('flyway_repair.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=extra)
    assert run.rc == 0, run.output[-3000:]
    report = run.result('flyway_repair')
    assert not report['changed'] and [r['version'] for r in report['failed_rows']] == ['1.10']
    assert report['newest_version'] == '1.9'
    odd = report['history'][1]
    assert odd['version'] is None and odd['checksum'] is None
    assert odd['description'] == 'it\'s a \\ repeatable\nwith a\x1fseparator'
    assert report['history'][0]['installed_on'][:4].isdigit() and 'T' not in report['history'][0]['installed_on']
    assert 'in database quickbite in service postgres of namespace quickbite' in report['report_lines'][0]
    assert '(psql as postgres over the local socket)' in report['report_lines'][0]

    run = run_playbook('flyway_repair.yml', inventory='inventory/k8s', tmp_path=tmp_path, check=True,
                       extra=dict(extra, flyway_repair_state='repair', flyway_repair_confirm='quickbite'))
    assert run.rc == 0 and run.result('flyway_repair')['changed'], run.output[-3000:]
    assert pg.psql('SELECT count(*) FROM flyway_schema_history WHERE NOT success', db='quickbite') == '1'

    revision = int(k8s.emulator.get('deployments', 'quickbite-backend')['metadata']['annotations'][
        'deployment.kubernetes.io/revision'])
    run = run_playbook('flyway_repair.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=dict(extra, flyway_repair_state='repair', flyway_repair_confirm='quickbite'))
    assert run.rc == 0, run.output[-3000:]
    result = run.result('flyway_repair')
    assert result['changed'] and [r['version'] for r in result['deleted']] == ['1.10']
    backup = result['backup_table']
    # Independently: the copy holds every row, the history no failed one.
    assert pg.psql('SELECT string_agg(installed_rank::text, \',\' ORDER BY installed_rank) FROM "%s"' % backup,
                   db='quickbite') == '1,2,3,4'
    assert pg.psql('SELECT string_agg(installed_rank::text, \',\' ORDER BY installed_rank) FROM flyway_schema_history',
                   db='quickbite') == '1,2,3'
    assert 'flyway_repair' in pg.psql("SELECT obj_description('\"%s\"'::regclass)" % backup, db='quickbite')
    assert int(k8s.emulator.get('deployments', 'quickbite-backend')['metadata']['annotations'][
        'deployment.kubernetes.io/revision']) == revision + 1
    assert set(entry[2][0] for entry in k8s.emulator.exec_log) == {'psql'}
    assert _leaks(k8s, pg, OLD) == []
