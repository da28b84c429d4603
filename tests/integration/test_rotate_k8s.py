"""Secret rotation on the Kubernetes path (JWT, webhook). The emulator runs no
containers, so a stand-in backend here plays the pods' part: it answers on
127.0.0.1 and, like a real pod, reads JWT_SECRET from the Secret only when the
Deployment's pods are replaced (a rollout), never in between."""
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_playbook
from k8s_defaults import emulator
from k8s_pg import quickbite_pg  # noqa: F401 pylint: disable=unused-import

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

OLD = 'a' * 64
SEED = dict(JWT_SECRET=OLD, DB_PASSWORD='db-password-seed-0123456789', REDIS_PASSWORD='redis-password-seed-0123',
            PAYMENT_WEBHOOK_SECRET='webhook-seed-0123456789abcdef', POSTGRES_PASSWORD='pg-seed-0123456789abcdef')


def _valid(token, secret):
    if not secret:
        return False
    head, body, sig = token.split('.')
    want = hmac.new(secret.encode(), ('%s.%s' % (head, body)).encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.urlsafe_b64encode(want).rstrip(b'=').decode(), sig)


class PodsBackend(object):
    def __init__(self, emulator):
        self.emulator = emulator
        self.secrets = {}
        self.pods = None
        self.refuse_new = False  # a backend that fails with whatever new value it gets
        self.seed = {}
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == '/actuator/health':
                    up = not (backend.refuse_new and any(backend.secrets.get(k) != v for k, v in backend.seed.items()))
                    self._send(200 if up else 503, {'status': 'UP' if up else 'DOWN', 'components': {
                        'db': {'status': 'UP'}, 'redis': {'status': 'UP'}, 'diskSpace': {'status': 'UP'}}})
                elif self.path == '/api/orders':
                    token = self.headers.get('Authorization', '')[len('Bearer '):]
                    ok = any(_valid(token, backend.secrets.get(k)) for k in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS'))
                    self._send(200 if ok else 401, [] if ok else {'error': 'Unauthorized'})
                else:
                    self._send(404, {})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                secret = backend.secrets.get('PAYMENT_WEBHOOK_SECRET', '')
                want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                ok = self.path == '/api/payments/webhook' and hmac.compare_digest(
                    want, self.headers.get('X-Razorpay-Signature', ''))
                self._send(200 if ok else 400, {'status': 'ok'} if ok else {'error': 'Invalid signature'})

            def _send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.stop = threading.Event()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while not self.stop.is_set():
            pods = frozenset(p['metadata']['name'] for p in self.emulator.list('pods', label_selector='app=quickbite-backend'))
            if pods != self.pods:
                data = self.emulator.get('secrets', 'quickbite-secrets')['data']
                self.secrets = dict((k, base64.b64decode(v).decode()) for k, v in data.items())
                if self.pods is None:
                    self.seed = dict(self.secrets)
                self.pods = pods
            time.sleep(0.05)

    def close(self):
        self.stop.set()
        self.server.shutdown()


@pytest.fixture
def k8s(tmp_path_factory):
    with emulator(tmp_path_factory, secrets=SEED, pod_start_delay=0.1) as cluster:  # the Role's token
        backend = PodsBackend(cluster.emulator)
        cluster.backend = backend
        yield cluster
        backend.close()


def _secret(k8s):
    return dict((k, base64.b64decode(v).decode()) for k, v in k8s.emulator.get('secrets', 'quickbite-secrets')['data'].items())


def _vars(k8s, tmp_path, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                rotate_jwt_audit_log=str(tmp_path / 'rotation.log'), rotate_jwt_wait_timeout=60)
    base.update(extra)
    return base


def test_rotation_patches_one_key_rolls_and_verifies(k8s, tmp_path):
    before = _secret(k8s)
    revision = k8s.emulator.get('deployments', 'quickbite-backend')['metadata']['annotations'][
        'deployment.kubernetes.io/revision']
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', extra=_vars(k8s, tmp_path), verbosity=3,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    after = _secret(k8s)
    new = after['JWT_SECRET']
    assert new != OLD and len(new) == 64
    assert dict((k, v) for k, v in after.items() if k != 'JWT_SECRET') == \
        dict((k, v) for k, v in before.items() if k != 'JWT_SECRET')
    dep = k8s.emulator.get('deployments', 'quickbite-backend')
    assert int(dep['metadata']['annotations']['deployment.kubernetes.io/revision']) == int(revision) + 1
    assert k8s.backend.secrets['JWT_SECRET'] == new  # the pods were replaced and read it
    result = run.result('jwt_rotate')
    assert result['outcome'] == 'rotated'
    assert [c['check'] for c in result['checks']][-2:] == ['new token accepted', 'old token refused']
    everything = run.output + json.dumps(run.records) + (tmp_path / 'rotation.log').read_text()
    assert OLD not in everything and new not in everything
    state = k8s.emulator.get('secrets', 'quickbite-ops-state')
    assert not (state or {}).get('data')  # no pending rotation left


def test_failed_test_rolls_the_secret_back(k8s, tmp_path):
    k8s.backend.refuse_new = True
    before = _secret(k8s)
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, rotate_jwt_wait_timeout=6))
    assert run.rc != 0 and 'rotation of JWT_SECRET rolled back' in run.output
    assert _secret(k8s) == before and k8s.backend.secrets['JWT_SECRET'] == OLD
    assert 'is healthy' in run.output
    entry = json.loads((tmp_path / 'rotation.log').read_text().splitlines()[-1])
    assert entry['outcome'] == 'rolled back' and entry['old'] == hashlib.sha256(OLD.encode()).hexdigest()[:8]


def test_grace_period_kept_then_ended_and_a_failed_end_put_back(k8s, tmp_path):
    """keep_previous, then end_grace: only JWT_SECRET_PREVIOUS changes in the
    Secret; a backend that fails once it is dropped gets it back."""
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, rotate_jwt_keep_previous=True))
    assert run.rc == 0, run.output[-3000:]
    before = _secret(k8s)
    assert before['JWT_SECRET_PREVIOUS'] == OLD and k8s.backend.secrets['JWT_SECRET_PREVIOUS'] == OLD
    # A backend that refuses to run without the previous secret: the end is rolled back.
    k8s.backend.seed, k8s.backend.refuse_new = dict(k8s.backend.secrets), True
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, rotate_jwt_end_grace=True, rotate_jwt_wait_timeout=6))
    assert run.rc != 0 and 'rotation of JWT_SECRET_PREVIOUS rolled back' in run.output and 'is healthy' in run.output
    assert _secret(k8s) == before and k8s.backend.secrets['JWT_SECRET_PREVIOUS'] == OLD
    k8s.backend.refuse_new = False
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, rotate_jwt_end_grace=True))
    assert run.rc == 0, run.output[-3000:]
    after = _secret(k8s)
    assert after == dict(before, JWT_SECRET_PREVIOUS='') and k8s.backend.secrets['JWT_SECRET_PREVIOUS'] == ''
    assert [c['check'] for c in run.result('jwt_rotate')['checks']][-2:] == [
        'token of JWT_SECRET accepted', 'token of the dropped JWT_SECRET_PREVIOUS refused']
    entries = [json.loads(line) for line in (tmp_path / 'rotation.log').read_text().splitlines()]
    assert [(e['secret'], e['outcome']) for e in entries] == [
        ('JWT_SECRET', 'rotated'), ('JWT_SECRET_PREVIOUS', 'rolled back'), ('JWT_SECRET_PREVIOUS', 'rotated')]


def test_lock_held_by_another_run(k8s, tmp_path):
    from kubernetes import client
    now = time.strftime('%Y-%m-%dT%H:%M:%S.000000Z', time.gmtime())
    client.CoordinationV1Api(k8s.api_client()).create_namespaced_lease('quickbite', {
        'metadata': {'name': 'quickbite-ops-lock', 'annotations': {'quickbite.ops/holder': json.dumps(
            {'procedure': 'scale backend', 'host': 'other', 'pid': 7})}},
        'spec': {'holderIdentity': 'other/7/abc', 'leaseDurationSeconds': 60, 'acquireTime': now, 'renewTime': now}})
    run = run_playbook('rotate-jwt.yml', inventory='inventory/k8s', extra=_vars(k8s, tmp_path), tmp_path=tmp_path)
    assert run.rc != 0 and 'another run holds lock quickbite-ops-lock in namespace quickbite: scale backend (pid 7 on ' \
        'other' in run.output
    assert _secret(k8s)['JWT_SECRET'] == OLD


def test_webhook_secret_rotation_on_kubernetes(k8s, tmp_path):
    before = _secret(k8s)
    new = 'whsec_k8s_' + 'e' * 30
    extra = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                 rotate_webhook_secret_new=new, rotate_webhook_secret_audit_log=str(tmp_path / 'rotation.log'))
    run = run_playbook('rotate_webhook_secret.yml', inventory='inventory/k8s', extra=extra, verbosity=3,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    after = _secret(k8s)
    assert after['PAYMENT_WEBHOOK_SECRET'] == new and k8s.backend.secrets['PAYMENT_WEBHOOK_SECRET'] == new
    assert dict((k, v) for k, v in after.items() if k != 'PAYMENT_WEBHOOK_SECRET') == \
        dict((k, v) for k, v in before.items() if k != 'PAYMENT_WEBHOOK_SECRET')
    assert new not in run.output and before['PAYMENT_WEBHOOK_SECRET'] not in run.output


@pytest.fixture
def k8s_with_db(tmp_path_factory, quickbite_pg):
    """The Secret holds the passwords of QuickBite's database on a throw-away
    PostgreSQL 15 (k8s_pg), so the rotation's ALTER ROLE and login checks run
    against a real server, without the reference stack."""
    env = quickbite_pg.env
    seed = dict(SEED, DB_PASSWORD=env['DB_PASSWORD'], POSTGRES_PASSWORD=env['POSTGRES_PASSWORD'],
                DB_USER=env['DB_USER'], DB_NAME=env['DB_NAME'])
    with emulator(tmp_path_factory, secrets=seed, pod_start_delay=0.1) as cluster:  # the Role's token
        cluster.backend = PodsBackend(cluster.emulator)
        cluster.pg = quickbite_pg
        yield cluster
        cluster.backend.close()


def _db_vars(k8s, tmp_path, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                quickbite_db_access='libpq', quickbite_db_host='127.0.0.1', quickbite_db_port=k8s.pg.port,
                rotate_db_password_audit_log=str(tmp_path / 'rotation.log'), rotate_db_password_wait_timeout=30)
    base.update(extra)
    return base


def _pg_login(password, pg):
    import psycopg2
    try:
        psycopg2.connect(host='127.0.0.1', port=pg.port, dbname=pg.env['DB_NAME'], user=pg.env['DB_USER'],
                         password=password, connect_timeout=5).close()
        return True
    except psycopg2.Error:
        return False


def test_db_password_rotation_on_kubernetes_with_real_postgres(k8s_with_db, tmp_path):
    k8s, pg = k8s_with_db, k8s_with_db.pg
    old, before = pg.env['DB_PASSWORD'], _secret(k8s)
    run = run_playbook('rotate_db_password.yml', inventory='inventory/k8s', extra=_db_vars(k8s, tmp_path),
                       verbosity=3, tmp_path=tmp_path)
    try:
        assert run.rc == 0, run.output[-3000:]
        new = _secret(k8s)['DB_PASSWORD']
        assert new != old and _pg_login(new, pg) and not _pg_login(old, pg)
        assert dict((k, v) for k, v in _secret(k8s).items() if k != 'DB_PASSWORD') == \
            dict((k, v) for k, v in before.items() if k != 'DB_PASSWORD')
        assert new not in run.output and old not in run.output
    finally:
        # The role's password back, whatever happened (the module's tests share the cluster).
        run = run_playbook('rotate_db_password.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                           extra=_db_vars(k8s, tmp_path, rotate_db_password_new=old))
    assert run.rc == 0 and _pg_login(old, pg)


def test_db_password_rolled_back_when_the_backend_fails_with_it(k8s_with_db, tmp_path):
    k8s, pg = k8s_with_db, k8s_with_db.pg
    k8s.backend.refuse_new = True
    old, before = pg.env['DB_PASSWORD'], _secret(k8s)
    run = run_playbook('rotate_db_password.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_db_vars(k8s, tmp_path, rotate_db_password_wait_timeout=6))
    assert run.rc != 0 and 'rotation of DB_PASSWORD rolled back' in run.output and 'is healthy' in run.output
    assert _secret(k8s) == before and _pg_login(old, pg)


def test_webhook_secret_rolled_back_when_the_backend_fails_with_it(k8s, tmp_path):
    k8s.backend.refuse_new = True
    before = _secret(k8s)
    extra = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                 rotate_webhook_secret_new='whsec_k8s_' + 'd' * 30, rotate_webhook_secret_wait_timeout=6,
                 rotate_webhook_secret_audit_log=str(tmp_path / 'rotation.log'))
    run = run_playbook('rotate_webhook_secret.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert run.rc != 0 and 'rotation of PAYMENT_WEBHOOK_SECRET rolled back' in run.output and 'is healthy' in run.output
    assert _secret(k8s) == before and k8s.backend.secrets['PAYMENT_WEBHOOK_SECRET'] == before['PAYMENT_WEBHOOK_SECRET']
