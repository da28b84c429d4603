"""flyway_repair on the Kubernetes path: the history lives in real
PostgreSQL 15 (a scratch database of a throw-away cluster, k8s_pg, reached directly
through libpq with the credentials of the emulator's Secret, as through a
port-forward: quickbite_db_access libpq; test_db_k8s_exec_sql.py covers exec), the backend is
the emulator's Deployment. A stand-in plays the pods' Flyway check: pods that
start while a failed row exists crash-loop, pods started after the repair
are Ready and the actuator answers UP."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import pytest
from psycopg2 import sql

from conftest import run_playbook
from k8s_defaults import emulator
from k8s_pg import quickbite_pg  # noqa: F401 pylint: disable=unused-import
from pgcluster import FLYWAY_HISTORY_TABLE

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

SCRATCH = 'quickbite_flyway_k8s'
DEP = 'quickbite-backend'
HISTORY_DDL = FLYWAY_HISTORY_TABLE + """
INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,
                                   execution_time, success) VALUES
    (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 1, current_user, 5, true),
    (2, '1.9', 'create orders', 'SQL', 'V1_9__create_orders.sql', 2, current_user, 5, true),
    (3, '1.10', 'add loyalty points', 'SQL', 'V1_10__add_loyalty_points.sql', 3, current_user, 7, false);
"""


def _connect(pg, dbname, admin=False):
    conn = psycopg2.connect(host='127.0.0.1', port=pg.port, dbname=dbname, connect_timeout=5,
                            user='postgres' if admin else pg.env['DB_USER'],
                            password=pg.env['POSTGRES_PASSWORD' if admin else 'DB_PASSWORD'])
    conn.autocommit = True
    return conn


def _query(pg, query, args=()):
    conn = _connect(pg, SCRATCH)
    try:
        with conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def _admin(pg, *statements):
    conn = _connect(pg, 'postgres', admin=True)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


class FlywayPods(object):
    """Pods check the history when they start, as the backend does."""

    def __init__(self, emulator, pg):
        self.emulator, self.pg, self.broken, self.pods = emulator, pg, None, None
        pods = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                up = pods.broken is False
                body = json.dumps({'status': 'UP' if up else 'DOWN', 'components': {
                    'db': {'status': 'UP'}, 'redis': {'status': 'UP'}}}).encode()
                self.send_response(200 if up else 503)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.stop = threading.Event()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._look()
        threading.Thread(target=self._watch, daemon=True).start()

    def _look(self):
        pods = frozenset(p['metadata']['name'] for p in self.emulator.list('pods', label_selector='app=' + DEP))
        if pods != self.pods:
            self.pods = pods
            self.broken = bool(_query(self.pg, 'SELECT count(*) FROM flyway_schema_history WHERE NOT success')[0][0])
            self.emulator.set_crashloop(DEP, self.broken, log_lines=[
                'ERROR o.s.boot.SpringApplication : Application run failed',
                'FlywayValidateException: Validate failed: Detected failed migration to version 1.10'])

    def _watch(self):
        while not self.stop.is_set():
            self._look()
            time.sleep(0.05)

    def close(self):
        self.stop.set()
        self.server.shutdown()


@pytest.fixture(scope='module')
def pg(quickbite_pg):
    """A throw-away PostgreSQL 15 (no reference stack: the no-stack lane)."""
    return quickbite_pg


@pytest.fixture
def k8s(pg, tmp_path_factory):
    _admin(pg, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % SCRATCH,
           'CREATE DATABASE %s OWNER %s' % (SCRATCH, pg.env['DB_USER']))
    _query(pg, HISTORY_DDL)
    seed = dict(JWT_SECRET='a' * 64, REDIS_PASSWORD='redis-seed', PAYMENT_WEBHOOK_SECRET='webhook-seed',
                DB_PASSWORD=pg.env['DB_PASSWORD'], DB_USER=pg.env['DB_USER'], DB_NAME=SCRATCH)
    try:
        with emulator(tmp_path_factory, secrets=seed, pod_start_delay=0.1, crash_interval=0.3) as cluster:
            cluster.pods = FlywayPods(cluster.emulator, pg)
            yield cluster
            cluster.pods.close()
    finally:
        _admin(pg, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % SCRATCH)


def _ready_pods(k8s):
    return [p['metadata']['name'] for p in k8s.emulator.list('pods', label_selector='app=' + DEP)
            if any(c['type'] == 'Ready' and c['status'] == 'True' for c in (p.get('status') or {}).get('conditions', []))]


def test_repair_and_rolling_restart_on_kubernetes(k8s, pg, tmp_path):
    deadline = time.time() + 10
    while _ready_pods(k8s) and time.time() < deadline:
        time.sleep(0.1)
    assert k8s.pods.broken and _ready_pods(k8s) == []  # every pod crash-loops on the failed row
    revision = int(k8s.emulator.get('deployments', DEP)['metadata']['annotations']['deployment.kubernetes.io/revision'])
    extra = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.pods.url,
                 quickbite_db_access='libpq', quickbite_db_host='127.0.0.1', quickbite_db_port=pg.port,
                 flyway_repair_state='repair', flyway_repair_confirm=SCRATCH, flyway_repair_wait_timeout=60)
    run = run_playbook('flyway_repair.yml', inventory='inventory/k8s', extra=extra, check=True, tmp_path=tmp_path)
    assert run.rc == 0 and run.result('flyway_repair')['changed'], run.output[-4000:]
    assert _query(pg, 'SELECT count(*) FROM pg_tables WHERE tablename LIKE %s', ('flyway\\_schema\\_history\\_backup%',)) == [(0,)]
    assert _query(pg, 'SELECT count(*) FROM flyway_schema_history WHERE NOT success') == [(1,)]
    assert int(k8s.emulator.get('deployments', DEP)['metadata']['annotations'][
        'deployment.kubernetes.io/revision']) == revision and _ready_pods(k8s) == []

    run = run_playbook('flyway_repair.yml', inventory='inventory/k8s', extra=extra, verbosity=1, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-4000:]
    result = run.result('flyway_repair')
    assert result['changed'] and result['newest_version'] == '1.9'  # 1.9 < 1.10 in Flyway's order
    assert [r['version'] for r in result['deleted']] == ['1.10']
    # Independently: the backup holds every old row, the history no failed one, in the scratch database.
    backup = result['backup_table']
    assert _query(pg, sql.SQL('SELECT version, success FROM {} ORDER BY installed_rank').format(
        sql.Identifier(backup))) == [('1', True), ('1.9', True), ('1.10', False)]
    assert _query(pg, 'SELECT version, success FROM flyway_schema_history ORDER BY installed_rank') == \
        [('1', True), ('1.9', True)]
    # The Deployment rolled (new revision), its pods are Ready, health passed.
    dep = k8s.emulator.get('deployments', DEP)
    assert int(dep['metadata']['annotations']['deployment.kubernetes.io/revision']) == revision + 1
    assert 'kubectl.kubernetes.io/restartedAt' in dep['spec']['template']['metadata']['annotations']
    assert len(_ready_pods(k8s)) == dep['spec']['replicas'] and k8s.pods.broken is False
    assert result['restart']['msg'].startswith('done: rolling restart backend (revision')
    assert [c['check'] for c in result['checks'] if c['ok']] == ['health actuator', 'health platform']
    assert pg.env['DB_PASSWORD'] not in run.output
