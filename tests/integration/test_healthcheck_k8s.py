"""The health check on the Kubernetes path, against the API emulator
(tests/k8s_emulator): the real kubernetes client, emulated controllers."""
import pytest

from conftest import run_playbook
from k8s_defaults import emulator, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


@pytest.fixture(scope='module')
def stack_cluster(tmp_path_factory, stack):
    """Secret seeded with the reference stack's passwords, so checks that read
    DB_PASSWORD/REDIS_PASSWORD from the Secret reach the real PostgreSQL and
    Redis (as a port-forward would)."""
    secrets = dict((k, stack['env'][k]) for k in ('DB_PASSWORD', 'REDIS_PASSWORD', 'JWT_SECRET',
                                                  'PAYMENT_WEBHOOK_SECRET', 'POSTGRES_PASSWORD'))
    with emulator(tmp_path_factory, secrets=secrets) as k8s:
        yield k8s


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    """The platform checks' cluster (conftest's ``k8s``): no reference stack, so
    those tests run in the no-stack lane."""
    with emulator(tmp_path_factory) as k8s:
        yield k8s


_wait = wait_until


def _vars(k8s, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url='http://127.0.0.1:18080',
                quickbite_frontend_url='http://127.0.0.1:18081', quickbite_db_host='127.0.0.1',
                quickbite_db_port=15432, quickbite_redis_host='127.0.0.1', quickbite_redis_port=16379,
                healthcheck_checks=['actuator', 'db', 'redis', 'frontend', 'platform'],
                # From the controller (as through a port-forward); inventory/k8s runs them in the pods.
                quickbite_db_access='libpq', quickbite_redis_access='tcp')
    base.update(extra)
    return base


def test_healthy_namespace_with_passwords_from_the_secret(stack_cluster, stack, tmp_path):
    k8s = stack_cluster
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', extra=_vars(k8s), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    report = run.result('healthcheck')
    assert report['status'] == 'UP' and report['platform'] == 'k8s'
    assert report['target'] == 'namespace quickbite at %s' % k8s.url
    services = dict((s['name'], s) for s in report['checks']['platform']['details']['services'])
    assert services['backend']['workload'] == 'quickbite-backend' and services['backend']['desired'] == 3
    assert len([r for r in services['backend']['replicas'] if r['ready']]) == 3
    everything = run.output + repr(run.records)
    assert stack['env']['DB_PASSWORD'] not in everything and stack['env']['REDIS_PASSWORD'] not in everything


@pytest.mark.parametrize('service, deployment', [('redis', 'redis'), ('backend', 'quickbite-backend')])
def test_crashlooping_service_is_named_with_logs_then_recovers(k8s, tmp_path, service, deployment):
    k8s.emulator.set_crashloop(deployment, True, log_lines=['FATAL %s cannot start: injected by the test' % service])
    _wait(lambda: all(p['status']['containerStatuses'][0]['restartCount'] > 0
                      for p in k8s.emulator.list('pods', label_selector='app=' + deployment)))
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, healthcheck_checks=['platform'], healthcheck_timeout=0))
    assert run.rc != 0
    report = run.result('healthcheck')
    evidence = report['checks']['platform']['evidence']
    assert evidence.startswith('%s: %s-' % (service, deployment)), evidence
    assert 'CrashLoopBackOff' in evidence
    assert 'FATAL %s cannot start: injected by the test' % service in evidence
    assert 'failed: platform' in run.output

    k8s.emulator.set_crashloop(deployment, False)
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, healthcheck_checks=['platform'], healthcheck_timeout=30,
                                   healthcheck_interval=1))
    assert run.rc == 0, run.output


def test_unready_pods_fail_the_check(k8s, tmp_path):
    k8s.emulator.set_unready('quickbite-frontend', True)
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, healthcheck_checks=['platform'], healthcheck_timeout=3,
                                   healthcheck_interval=1))
    assert run.rc != 0
    assert run.result('healthcheck')['checks']['platform']['evidence'].startswith('frontend: quickbite-frontend-')


def test_bad_kubeconfig_and_unknown_service_are_named(k8s, tmp_path):
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, quickbite_k8s_kubeconfig=str(tmp_path / 'missing'),
                                   healthcheck_checks=['platform']))
    assert run.rc != 0 and 'quickbite_k8s_kubeconfig' in run.output
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, healthcheck_checks=['platform'], healthcheck_services=['worker']))
    assert run.rc != 0 and 'unknown service worker' in run.output
