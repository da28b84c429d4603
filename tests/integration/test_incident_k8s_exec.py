"""The incident's db and redis probes on Kubernetes through pod exec
(inventory/k8s sets quickbite_db_access and quickbite_redis_access: exec):
the database's answers through psql in the postgres pod, the free space of
its volume as the pod sees it (SHOW data_directory, then df -P), and Redis'
PING and INFO through redis-cli in the redis pod. The emulator's pod exec is backed by
``docker compose exec -T`` on the reference stack's PostgreSQL container
and Redis container (as test_healthcheck_k8s_exec.py), so psql, df and
redis-cli run in real PostgreSQL 15 and Redis 7; db_host and redis_host
point at an unroutable address, proving nothing connects from the
controller."""
import os

import pytest

from conftest import STACK_DIR, run_playbook
from k8s_emulator import EmulatorThread

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

COMPOSE = ['docker', 'compose', '-p', 'quickbite', '-f', os.path.join(STACK_DIR, 'docker-compose.prod.yml'),
           '--env-file', os.path.join(STACK_DIR, '.env.prod'), 'exec', '-T']


@pytest.fixture(scope='module')
def cluster(tmp_path_factory, stack):
    secrets = dict((k, stack['env'][k]) for k in ('DB_PASSWORD', 'REDIS_PASSWORD'))
    with EmulatorThread(secrets=secrets, pod_start_delay=0.1,
                        exec_backends={'postgres': COMPOSE + ['--user', 'postgres', 'postgres'],
                                       'redis': COMPOSE + ['redis']}) as k8s:
        k8s.kubeconfig = str(k8s.write_kubeconfig(tmp_path_factory.mktemp('k8s') / 'kubeconfig'))
        yield k8s


def test_db_and_redis_probes_and_the_volume_free_space_come_through_their_pods(cluster, stack, tmp_path):
    incidents = str(tmp_path / 'incidents')
    run = run_playbook('incident.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=dict(
        quickbite_k8s_kubeconfig=cluster.kubeconfig, quickbite_db_host='192.0.2.1', quickbite_db_port=15432,
        quickbite_redis_host='192.0.2.1', quickbite_redis_port=16379, incident_probes=['db', 'redis'],
        incident_dir=incidents, incident_id='k8s-db-1', incident_probe_timeouts={'db': 20}))
    assert run.rc == 0, run.output[-3000:]
    probe = run.result('incident_evidence')['evidence']['db']
    assert probe['status'] == 'ok', probe
    data = probe['data']
    assert data['reachable'] and data['select1_ms'] is not None and data['max_connections'] >= data['connections'] >= 1
    assert data['size_bytes'] > 0 and data['blocked_locks'] == 0
    assert probe['summary'].startswith('SELECT 1 in ') and 'in service postgres of namespace quickbite' in probe['summary']
    volume = data['volume']
    assert volume['available'] and volume['found_by'] == 'SHOW data_directory', volume
    assert volume['data_directory'] == '/var/lib/postgresql/data' and 0 < volume['avail_bytes'] < volume['size_bytes']
    ran = [(pod.split('-')[0], argv[0], argv[-1]) for pod, _container, argv, _protocol in cluster.emulator.exec_log]
    assert ('postgres', 'psql', 'SHOW data_directory') in ran
    assert ('postgres', 'df', '/var/lib/postgresql/data') in ran
    redis = run.result('incident_evidence')['evidence']['redis']
    assert redis['status'] == 'ok' and redis['data']['reachable'] and redis['data']['version'].startswith('7.'), redis
    assert redis['data']['used_memory'] > 0 and redis['data']['connected_clients'] >= 1
    assert redis['summary'].startswith('PING answered PONG from redis in service redis of namespace quickbite')
    assert ('redis', 'redis-cli', '16379') in ran
    assert not any(stack['env']['REDIS_PASSWORD'] in ' '.join(argv) for _p, _c, argv, _pr in cluster.emulator.exec_log)
    with open(os.path.join(incidents, 'k8s-db-1', 'report.md')) as handle:
        assert 'MB free of' in handle.read()
    for key in ('DB_PASSWORD', 'REDIS_PASSWORD'):
        assert stack['env'][key] not in run.output + repr(run.records)
