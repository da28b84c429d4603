"""Issue 14 item 1 on the Kubernetes path, against the API emulator: postgres
as a StatefulSet behind a Service, the backend's pod env pointing at another
database service. The backend's environment comes from its pod (envFrom the
Secret, env literals), the addresses from the Services that select postgres.
The emulator has no networking (pod IPs and Service names lead nowhere), so
psql in the postgres pod is a stand-in that answers, and the TCP connect in
the backend pod runs on this host, where the wrong name does not resolve
either; the real connect is proven on the Compose stack
(test_diagnose_compose.py). Emulator only: no stack lock."""
import sys

import pytest

from conftest import run_playbook
from k8s_defaults import emulator, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

# psql in the postgres pod: answers SELECT 1 and the version, whatever it is asked.
FAKE_PSQL = [sys.executable, '-c', 'print(1); print("15.10")']


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory, statefulsets=('postgres',),
                  exec_backends={'postgres': FAKE_PSQL}) as k8s:
        yield k8s


@pytest.fixture
def k8s(cluster):
    cluster.emulator.reset()
    cluster.emulator.set_exec_backend('postgres', FAKE_PSQL)
    yield cluster
    cluster.emulator.set_exec_backend('quickbite-backend', None)
    assert cluster.emulator.last_error is None, cluster.emulator.last_error


def _apis(k8s):
    from kubernetes import client
    api = k8s.api_client()
    return client.CoreV1Api(api), client.AppsV1Api(api)


def _set_db_host(k8s, value):
    dummy, apps = _apis(k8s)
    apps.patch_namespaced_deployment('quickbite-backend', 'quickbite', {'spec': {'template': {'spec': {'containers': [
        {'name': 'backend', 'env': [{'name': 'DB_HOST', 'value': value}]}]}}}})
    wait_for(lambda: k8s.emulator.rollout_complete('quickbite-backend') and all(
        any(e.get('value') == value for e in p['spec']['containers'][0].get('env', []) if e['name'] == 'DB_HOST')
        for p in k8s.emulator.list('pods', label_selector='app=quickbite-backend')
        if not p['metadata'].get('deletionTimestamp')), timeout=15, what='the backend rolled out with DB_HOST=%s' % value)


def _diagnose(k8s, tmp_path):
    run = run_playbook('diagnose.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=dict(
        quickbite_k8s_kubeconfig=k8s.kubeconfig, diagnose_checks=['connection_refused']))
    return run, run.result('diagnose')


def test_pod_env_pointing_at_a_wrong_database_service_is_named_with_the_services_that_reach_postgres(k8s, tmp_path):
    core, dummy = _apis(k8s)
    core.create_namespaced_service('quickbite', {
        'metadata': {'name': 'postgres'},
        'spec': {'selector': {'app': 'postgres'}, 'ports': [{'name': 'pg', 'port': 5432, 'targetPort': 'postgres'}]}})
    _set_db_host(k8s, 'postgres-old')
    k8s.emulator.set_exec_backend('quickbite-backend', ['env'])  # the connect runs here: the name does not resolve
    run, result = _diagnose(k8s, tmp_path)
    assert run.rc != 0, run.output[-3000:]
    service, address, login, tcp, last = result['findings']
    assert service['status'] == 'OK' and 'database service postgres running and ready' in service['summary'], service
    assert address['status'] == 'PROBLEM' and address['fix'] is None, address
    assert address['evidence']['address'] == 'postgres-old:5432'
    assert {'postgres:5432', 'postgres.quickbite:5432', 'postgres.quickbite.svc.cluster.local:5432'} <= set(
        address['evidence']['reached_as'])
    assert "no playbook changes the backend workload's own environment" in address['fix_note']
    env = address['evidence']['backend_env']
    assert env['DB_HOST'] == {'value': 'postgres-old', 'origin': 'env'}
    assert env['DB_PASSWORD']['value'].startswith('******** (fingerprint ')
    assert env['DB_PASSWORD']['origin'] == 'envFrom secret quickbite-secrets'
    assert address['evidence']['backend'].startswith('quickbite-backend-') and address['evidence']['backend'].endswith(
        '/backend')
    assert login['status'] == 'SKIPPED' and 'through exec' in login['summary']
    assert tcp['status'] == 'PROBLEM' and tcp['evidence']['target'] == 'postgres-old:5432', tcp
    assert tcp['evidence']['program'] == 'python3' and 'gaierror' in tcp['evidence']['output'], tcp
    assert last['status'] == 'OK'
    secret = k8s.emulator.get('secrets', 'quickbite-secrets')
    assert secret and 'DB_PASSWORD' in secret['data']
    # The pod's env put right, as the finding says: the address matches.
    k8s.emulator.set_exec_backend('quickbite-backend', None)
    _set_db_host(k8s, 'postgres')
    again, result = _diagnose(k8s, tmp_path)
    assert again.rc == 0, again.output[-3000:]
    assert [f['status'] for f in result['findings']] == ['OK', 'OK', 'SKIPPED', 'SKIPPED', 'OK'], result['report_lines']
    assert 'connects to postgres:5432, where PostgreSQL (postgres, port 5432) is reached' in result['findings'][1][
        'summary']
