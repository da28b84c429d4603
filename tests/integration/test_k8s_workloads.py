"""Kubernetes as real clusters run QuickBite (issue 12 items 1-5), against the
API emulator: postgres and redis as StatefulSets, pods with a log-shipper
sidecar, ended (Evicted) pods, a paused Deployment, Terminating pods and a
hung API server. Playbooks where the procedure is the claim, the adapter
itself where a wait or an error is; kubectl cross-checks where it shows it.
Emulator only: no stack lock."""
import functools
import time

import pytest

from conftest import run_playbook
from k8s_defaults import emulator, wait_until
from k8s_emulator import kubectl as kubectl_bin
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

KUBECTLS = kubectl_bin.kubectls()
# Deleted pods stay Terminating this long, as on a cluster (waits must see them go).
TERMINATE_DELAY = 0.5  # longer than the default (k8s_defaults), so a stop must wait for it


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory, statefulsets=('postgres', 'redis'), sidecars=['quickbite-backend', 'postgres'],
                  pod_start_delay=0.1, pod_terminate_delay=TERMINATE_DELAY) as k8s:
        yield k8s


@pytest.fixture
def k8s(cluster):
    cluster.emulator.reset()
    yield cluster
    cluster.emulator.set_hang(on=False)
    assert cluster.emulator.last_error is None, cluster.emulator.last_error


def _adapter(k8s, wait_timeout=30, **deployments):
    return KubernetesAdapter(None, dict(namespace='quickbite', secret_name='quickbite-secrets', context=None,
                                        kubeconfig=k8s.kubeconfig, deployments=deployments,
                                        wait_timeout=wait_timeout))


def _vars(k8s, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, healthcheck_checks=['platform'])
    base.update(extra)
    return base


def _live(k8s, selector):
    return [p for p in k8s.emulator.list('pods', label_selector=selector)
            if not p['metadata'].get('deletionTimestamp') and p['status'].get('phase') not in ('Failed', 'Succeeded')]


_wait = functools.partial(wait_until, timeout=15, interval=0.05)


def _kubectl(k8s, *args):
    path = KUBECTLS[sorted(KUBECTLS)[-1]]
    return kubectl_bin.run(path, k8s.kubeconfig, *args)


# ------------------------------------------------------------ 1, 3: health of StatefulSets, ended pods, external


def test_health_of_statefulsets_and_sidecars_ignores_ended_pods_and_external_services(k8s, tmp_path):
    evicted = sorted(p['metadata']['name'] for p in _live(k8s, 'app=quickbite-frontend'))[0]
    k8s.emulator.set_pod_phase(evicted, 'Evicted')
    _wait(lambda: len(_live(k8s, 'app=quickbite-frontend')) == 2
          and all(p['status'].get('phase') == 'Running' for p in _live(k8s, 'app=quickbite-frontend')))
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, quickbite_k8s_deployments={'redis': {'external': True}},
                                   healthcheck_timeout=10, healthcheck_interval=1))
    assert run.rc == 0, run.output[-3000:]
    services = dict((s['name'], s) for s in run.result('healthcheck')['checks']['platform']['details']['services'])
    assert sorted(services) == ['backend', 'frontend', 'postgres']  # redis: its own probe only
    assert services['postgres']['kind'] == 'StatefulSet' and services['postgres']['ok']
    assert [r['name'] for r in services['postgres']['replicas']] == ['postgres-0']
    assert services['postgres']['replicas'][0]['image'] == 'postgres:15'  # the main container, not fluent-bit
    assert services['frontend']['ok'] and evicted not in [r['name'] for r in services['frontend']['replicas']]
    assert [(e['name'], e['reason']) for e in services['frontend']['ended']] == [(evicted, 'Evicted')]
    if KUBECTLS:  # kubectl lists the ended pod too, not Running, beside the two live ones
        rows = [line.split() for line in _kubectl(k8s, 'get', 'pods', '-l', 'app=quickbite-frontend').stdout
                .splitlines()[1:]]
        assert sorted(row[2] == 'Running' for row in rows) == [False, True, True]
        assert [row[0] for row in rows if row[2] != 'Running'] == [evicted]


def test_waits_for_an_exact_count_do_not_count_ended_pods(k8s):
    adapter = _adapter(k8s)
    victim = sorted(p['metadata']['name'] for p in _live(k8s, 'app=quickbite-frontend'))[0]
    k8s.emulator.set_pod_phase(victim, 'Failed')
    state = adapter.wait('frontend', 20, replicas=2)
    assert state['ok'] and len(state['replicas']) == 2 and victim in [e['name'] for e in state['ended']]


def test_external_service_is_refused_by_name_not_read_on_the_platform(k8s):
    adapter = _adapter(k8s, postgres={'external': True})
    assert 'postgres' not in adapter.service_names()
    with pytest.raises(ConfigError, match='postgres is declared external in quickbite_k8s_deployments'):
        adapter.services(['postgres'])
    with pytest.raises(ConfigError, match='kind .cronjob. is not a Deployment or a StatefulSet'):
        _adapter(k8s, postgres='cronjob/postgres')


# ------------------------------------------------------------ 1: restart, delete-pod and scale of a StatefulSet


def test_rolling_restart_of_a_statefulset_waits_by_kubectls_rules(k8s, tmp_path):
    before = k8s.emulator.get('pods', 'postgres-0')['metadata']['uid']
    run = run_playbook('restart.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, restart_services=['postgres']))
    assert run.rc == 0, run.output[-3000:]
    assert run.result('restart')['msg'] == 'done: rolling restart postgres (revision 1 -> 2)'
    sts = k8s.emulator.get('statefulsets', 'postgres')
    assert 'kubectl.kubernetes.io/restartedAt' in sts['spec']['template']['metadata']['annotations']
    assert sts['status']['updateRevision'] == sts['status']['currentRevision']  # waited until the rollout ended
    assert k8s.emulator.statefulset_rollout_complete('postgres')
    assert k8s.emulator.get('pods', 'postgres-0')['metadata']['uid'] != before
    if KUBECTLS:
        proc = _kubectl(k8s, 'rollout', 'status', 'statefulset/postgres', '--timeout=10s')
        assert proc.returncode == 0 and 'roll out complete' in proc.stdout, proc.stdout + proc.stderr


def test_delete_pod_of_a_statefulset_waits_for_the_pod_that_comes_back_under_its_name(k8s, tmp_path):
    before = k8s.emulator.get('pods', 'redis-0')['metadata']['uid']
    run = run_playbook('restart.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, restart_pod='redis-0'))
    assert run.rc == 0, run.output[-3000:]
    pod = k8s.emulator.get('pods', 'redis-0')
    assert pod['metadata']['uid'] != before and not pod['metadata'].get('deletionTimestamp')
    assert any(c['type'] == 'Ready' and c['status'] == 'True' for c in pod['status']['conditions'])


def test_scale_of_a_statefulset_and_back(k8s):
    adapter = _adapter(k8s)
    adapter.scale('redis', 2)
    state = adapter.wait('redis', 30, replicas=2)
    assert [r['name'] for r in state['replicas']] == ['redis-0', 'redis-1'] and state['ok']
    adapter.scale('redis', 1)
    state = adapter.wait('redis', 30, replicas=1)
    assert [r['name'] for r in state['replicas'] if not r['terminating']] == ['redis-0']
    assert k8s.emulator.get('statefulsets', 'redis')['spec']['replicas'] == 1


# ------------------------------------------------------------ 2: sidecars


def test_logs_come_from_the_main_container_or_all_containers(k8s, tmp_path):
    k8s.emulator.append_log('quickbite-backend', ['2026-01-05T10:00:00.000Z ERROR 1 --- injected failure'],
                            container='backend')
    run = run_playbook('logs.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, logs_services=['backend', 'postgres'], logs_dest_dir=str(tmp_path)))
    assert run.rc == 0, run.output[-3000:]
    result = run.result('logs')
    backend = [s for s in result['sources'] if s['service'] == 'backend']
    assert len(backend) == 3 and all(s['lines'] > 0 and s['matches'] == 1 and 'note' not in s for s in backend)
    postgres = [s for s in result['sources'] if s['service'] == 'postgres']
    assert [s['source'] for s in postgres] == ['postgres-0'] and postgres[0]['lines'] > 0
    text = open(result['file']).read()
    assert 'database system is ready to accept connections' in text and 'fluent-bit' not in text.lower()

    adapter = _adapter(k8s, backend={'name': 'quickbite-backend', 'container': '*'})
    entries = adapter.logs('backend', tail=5)
    assert sorted(set(e['source'].split('/')[1] for e in entries)) == ['backend', 'log-shipper']
    assert any('stream processor started' in line for e in entries for line in e['lines'])
    if KUBECTLS:  # kubectl's own pick with -c backend shows the same line
        pod = entries[0]['source'].split('/')[0]
        proc = _kubectl(k8s, 'logs', pod, '-c', 'backend', '--tail=5')
        ours = [e for e in entries if e['source'] == pod + '/backend'][0]['lines']
        assert proc.returncode == 0 and proc.stdout.splitlines() == ours


def test_health_evidence_of_a_failing_pod_with_a_sidecar_has_the_main_containers_log(k8s, tmp_path):
    k8s.emulator.set_crashloop('postgres', True, log_lines=['FATAL: injected by the test'])
    _wait(lambda: k8s.emulator.get('pods', 'postgres-0')['status']['containerStatuses'][0]['restartCount'] > 0)
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, healthcheck_timeout=0))
    assert run.rc != 0
    evidence = run.result('healthcheck')['checks']['platform']['evidence']
    assert evidence.startswith('postgres: postgres-0 is CrashLoopBackOff') and 'FATAL: injected by the test' in evidence


# ------------------------------------------------------------ 4: waits that really wait, paused refused


def test_stop_returns_once_the_pods_are_gone_not_while_terminating(k8s):
    adapter = _adapter(k8s)
    started = time.time()
    token = adapter.stop('backend')
    assert time.time() - started >= TERMINATE_DELAY
    assert token['replicas'] == 3 and k8s.emulator.list('pods', label_selector='app=quickbite-backend') == []
    adapter.start('backend', token)
    assert adapter.wait('backend', 30, replicas=3)['ok']


def test_paused_deployment_is_refused_up_front_for_restart_and_rollback(k8s, tmp_path):
    """Check mode predicts the refusal a run meets."""
    adapter = _adapter(k8s)
    adapter.restart('frontend')
    adapter.wait('frontend', 30)  # a revision 1 to roll back to
    adapter.client.apps.patch_namespaced_deployment('quickbite-frontend', 'quickbite', {'spec': {'paused': True}})
    generation = k8s.emulator.get('deployments', 'quickbite-frontend')['metadata']['generation']
    for playbook, extra, check in (('restart.yml', dict(restart_services=['frontend']), True),
                                   ('restart.yml', dict(restart_services=['frontend']), False),
                                   ('rollback.yml', dict(rollback_service='frontend'), False)):
        started = time.time()
        run = run_playbook(playbook, inventory='inventory/k8s', tmp_path=tmp_path, extra=_vars(k8s, **extra),
                           check=check)
        assert run.rc != 0 and time.time() - started < 30
        assert 'deployment quickbite-frontend is paused' in run.output, run.output[-2000:]
        assert 'kubectl rollout resume deployment/quickbite-frontend' in run.output
    assert k8s.emulator.get('deployments', 'quickbite-frontend')['metadata']['generation'] == generation
    if KUBECTLS:  # kubectl refuses the same
        proc = _kubectl(k8s, 'rollout', 'restart', 'deployment/quickbite-frontend')
        assert proc.returncode != 0 and 'paused' in proc.stderr


# ------------------------------------------------------------ 2, 5: API errors raised, hung API server


def test_a_log_request_that_fails_is_raised_not_an_empty_log(k8s):
    adapter = _adapter(k8s, wait_timeout=2)
    k8s.emulator.set_hang(r'/api/v1/namespaces/quickbite/pods/[^/]+/log')
    started = time.time()
    with pytest.raises(PlatformError, match='did not answer within 2 s'):
        adapter.logs('redis', tail=5)
    assert time.time() - started < 6


def test_a_hung_api_server_fails_the_task_within_its_wait_timeout(k8s, tmp_path):
    k8s.emulator.set_hang(r'/apis/apps/v1/namespaces/quickbite/deployments/quickbite-backend$', methods=['GET'])
    started = time.time()
    run = run_playbook('restart.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, restart_wait_timeout=4))
    elapsed = time.time() - started
    assert run.rc != 0
    assert 'reading deployment quickbite-backend: the Kubernetes API at %s did not answer within 4 s' % k8s.url \
        in run.output, run.output[-2000:]
    assert elapsed < 4 + 15, elapsed  # the timeout plus Ansible's start-up, not 4 x 30 s of retries


def test_a_wait_on_a_hung_api_server_ends_at_its_deadline(k8s):
    adapter = _adapter(k8s)  # requests may take 30 s each; the wait's deadline bounds them
    k8s.emulator.set_hang(r'/apis/apps/v1/namespaces/quickbite/deployments/quickbite-backend$', methods=['GET'])
    started = time.time()
    with pytest.raises(PlatformError, match='did not answer within 2 s'):
        adapter.wait('backend', 2)
    assert time.time() - started < 4
