"""The health check's db and redis checks through pod exec on Kubernetes
(issue 12 item 9): no port-forward. The emulator's pod exec is backed by
``docker compose exec -T`` on the reference stack, so psql and redis-cli run
in the real PostgreSQL 15 and Redis containers; db_host and redis_host point
at an unroutable address, proving nothing connects from the controller."""
import os

import pytest

from conftest import STACK_DIR, run_playbook
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

COMPOSE = ['docker', 'compose', '-p', 'quickbite', '-f', os.path.join(STACK_DIR, 'docker-compose.prod.yml'),
           '--env-file', os.path.join(STACK_DIR, '.env.prod'), 'exec', '-T']


@pytest.fixture(scope='module')
def cluster(tmp_path_factory, stack):
    secrets = dict((k, stack['env'][k]) for k in ('DB_PASSWORD', 'REDIS_PASSWORD'))
    backends = {'postgres': COMPOSE + ['--user', 'postgres', 'postgres'], 'redis': COMPOSE + ['redis']}
    with emulator(tmp_path_factory, secrets=secrets, pod_start_delay=0.1, exec_backends=backends) as k8s:
        yield k8s  # the playbooks run with the Role's token


def _vars(k8s, **extra):
    # inventory/k8s sets quickbite_db_access and quickbite_redis_access to exec: not repeated here.
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_db_host='192.0.2.1', quickbite_db_port=15432, quickbite_redis_host='192.0.2.1',
                quickbite_redis_port=16379, healthcheck_checks=['db', 'redis', 'platform'], healthcheck_timeout=0)
    base.update(extra)
    return base


def test_db_and_redis_checked_in_their_pods(cluster, stack, tmp_path):
    cluster.emulator.reset()
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', extra=_vars(cluster), tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    checks = run.result('healthcheck')['checks']
    assert checks['db']['status'] == 'UP' and 'SELECT 1 returned 1 on database quickbite in service postgres' \
        in checks['db']['evidence'] and checks['db']['details']['server_version'].startswith('15')
    assert checks['redis']['status'] == 'UP' and checks['redis']['evidence'].startswith('PING to redis in service redis')
    ran = [(pod.split('-')[0], argv[0]) for pod, _container, argv, _protocol in cluster.emulator.exec_log]
    assert ('postgres', 'psql') in ran and ('redis', 'redis-cli') in ran
    # The password reached redis-cli on its stdin only.
    assert not any(stack['env']['REDIS_PASSWORD'] in ' '.join(argv) for _p, _c, argv, _pr in cluster.emulator.exec_log)
    assert stack['env']['REDIS_PASSWORD'] not in run.output + repr(run.records)


def test_a_wrong_redis_password_and_a_crashed_db_pod_are_down_with_the_reason(cluster, stack, tmp_path):
    cluster.emulator.reset()
    cluster.emulator.set_crashloop('postgres', True)
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(cluster, quickbite_redis_password='not-the-password',
                                   healthcheck_checks=['db', 'redis']))
    assert run.rc != 0
    checks = run.result('healthcheck')['checks']
    assert checks['redis']['status'] == 'DOWN' and 'AUTH refused by redis in service redis' in \
        checks['redis']['evidence'] and 'check quickbite_redis_password' in checks['redis']['evidence']
    assert checks['db']['status'] == 'DOWN' and 'cannot run the check inside the pod or container' in \
        checks['db']['evidence'], checks['db']
    cluster.emulator.set_crashloop('postgres', False)
