"""The emulator's pods and faults (issue 12 items 2 to 5), driven by the real
``kubernetes`` client and kubectl: sidecar containers and the logs API's 400
without ``container=``, Failed/Succeeded/Evicted pods that stay listed, paused
Deployments, and an API endpoint that never answers."""

import json
import socket
import threading
import time
import urllib.request

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from k8s_defaults import wait_for  # noqa: E402
from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
BACKEND = 'quickbite-backend'
KUBECTLS = kubectl_bin.kubectls()
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    sidecars = {BACKEND: True, 'redis': {'name': 'metrics', 'image': 'fluent/fluent-bit:3.1', 'first': True}}
    with EmulatorThread(sidecars=sidecars, statefulsets=('postgres',), pod_start_delay=0.05, tick=0.02) as k:
        k.kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config')
        yield k


@pytest.fixture
def em(k8s):
    k8s.emulator.reset()
    yield k8s.emulator
    assert k8s.emulator.last_error is None, k8s.emulator.last_error


@pytest.fixture
def api(k8s, em):
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    api_client.close()


def kubectl(k8s, version, *args, **kwargs):
    return kubectl_bin.run(KUBECTLS[version], k8s.kubeconfig, *args, **kwargs)


# ------------------------------------------------------------------ sidecars (item 2)

def test_sidecar_containers_and_their_statuses(api):
    core, apps = api
    pod = core.list_namespaced_pod(NS, label_selector='app=' + BACKEND).items[0]
    assert [c.name for c in pod.spec.containers] == ['backend', 'log-shipper']
    statuses = {cs.name: cs for cs in pod.status.container_statuses}
    assert set(statuses) == {'backend', 'log-shipper'}
    assert statuses['log-shipper'].image == 'fluent/fluent-bit:3.1' and statuses['log-shipper'].ready
    assert statuses['backend'].container_id != statuses['log-shipper'].container_id
    redis = core.list_namespaced_pod(NS, label_selector='app=redis').items[0]
    assert [c.name for c in redis.spec.containers] == ['metrics', 'redis']     # first: True
    assert [c.name for c in core.list_namespaced_pod(NS, label_selector='app=postgres').items[0]
            .spec.containers] == ['postgres']


def test_logs_need_a_container_name_on_a_multi_container_pod(api):
    core, apps = api
    name = core.list_namespaced_pod(NS, label_selector='app=' + BACKEND).items[0].metadata.name
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(name, NS)
    body = json.loads(exc.value.body)
    assert exc.value.status == 400 and body['reason'] == 'BadRequest'
    assert body['message'] == ('a container name must be specified for pod %s, choose one of: '
                               '[backend log-shipper]' % name)
    assert 'Started QuickBiteApplication' in core.read_namespaced_pod_log(name, NS, container='backend')
    shipper = core.read_namespaced_pod_log(name, NS, container='log-shipper')
    assert '[fluent bit] version=3.1' in shipper and 'QuickBite' not in shipper
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(name, NS, container='nope')
    assert exc.value.status == 400


def test_one_unready_container_makes_the_pod_unready(api, em):
    core, apps = api
    em.set_unready(BACKEND, container='log-shipper')

    def statuses():
        pod = core.list_namespaced_pod(NS, label_selector='app=' + BACKEND).items[0]
        return pod, {cs.name: cs.ready for cs in pod.status.container_statuses}

    wait_for(lambda: statuses()[1] == {'backend': True, 'log-shipper': False}, what='sidecar unready')
    pod = statuses()[0]
    ready = {c.type: c for c in pod.status.conditions}['Ready']
    assert (ready.status, ready.reason, ready.message) == (
        'False', 'ContainersNotReady', 'containers with unready status: [log-shipper]')
    wait_for(lambda: not (apps.read_namespaced_deployment(BACKEND, NS).status.ready_replicas or 0),
             what='no ready replica')
    em.set_unready(BACKEND, on=False)
    wait_for(lambda: statuses()[1] == {'backend': True, 'log-shipper': True}, what='ready again')


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_logs_on_a_sidecar_pod(k8s, em, version):
    pod = em.list('pods', label_selector='app=' + BACKEND)[0]['metadata']['name']
    assert 'Started QuickBiteApplication' in kubectl(k8s, version, 'logs', pod, '-c', 'backend').stdout
    # kubectl picks the first container itself (and says so on stderr)
    proc = kubectl(k8s, version, 'logs', pod)
    assert proc.returncode == 0 and 'Started QuickBiteApplication' in proc.stdout
    assert 'log-shipper' in kubectl(k8s, version, 'logs', pod, '--all-containers', '--prefix').stdout


# ------------------------------------------------------------------ terminal phases (item 3)

@pytest.mark.parametrize('phase', ['Evicted', 'Failed', 'Succeeded'])
def test_ended_pods_stay_listed_and_are_replaced(api, em, phase):
    core, apps = api
    victim = core.list_namespaced_pod(NS, label_selector='app=quickbite-frontend').items[0].metadata.name
    em.set_pod_phase(victim, phase)
    pod = core.read_namespaced_pod(victim, NS)
    assert pod.status.phase == ('Succeeded' if phase == 'Succeeded' else 'Failed')
    cs = pod.status.container_statuses[0]
    assert cs.state.terminated is not None and not cs.ready
    ready = {c.type: c for c in pod.status.conditions}['Ready']
    assert ready.status == 'False' and ready.reason == ('PodCompleted' if phase == 'Succeeded' else 'PodFailed')
    if phase == 'Evicted':
        assert pod.status.reason == 'Evicted'
        assert pod.status.message.startswith('The node was low on resource: memory.')
        assert cs.state.terminated.exit_code == 137 and cs.state.terminated.reason == 'ContainerStatusUnknown'
        assert {c.type: c.reason for c in pod.status.conditions}['DisruptionTarget'] == 'TerminationByKubelet'
        assert any(e.reason == 'Evicted' and e.involved_object.name == victim
                   for e in core.list_namespaced_event(NS).items)
    else:
        assert pod.status.reason is None
        assert cs.state.terminated.exit_code == (0 if phase == 'Succeeded' else 1)
    # the ReplicaSet does not count it: a replacement runs, the ended pod stays listed
    wait_for(lambda: len([p for p in core.list_namespaced_pod(NS, label_selector='app=quickbite-frontend').items
                          if p.status.phase == 'Running']) == 2, what='replacement')
    wait_for(lambda: em.rollout_complete('quickbite-frontend'), what='deployment available again')
    names = [p.metadata.name for p in core.list_namespaced_pod(NS, label_selector='app=quickbite-frontend').items]
    assert victim in names and len(names) == 3
    assert apps.read_namespaced_deployment('quickbite-frontend', NS).status.replicas == 2
    time.sleep(0.1)     # several ticks: the kubelet leaves an ended pod as it is
    assert core.read_namespaced_pod(victim, NS).status.phase == pod.status.phase
    failed = core.list_namespaced_pod(NS, field_selector='status.phase=Failed').items
    assert [p.metadata.name for p in failed] == ([] if phase == 'Succeeded' else [victim])
    assert 'start worker processes' in core.read_namespaced_pod_log(victim, NS)


def test_no_exec_into_an_ended_pod(k8s, em):
    victim = em.list('pods', label_selector='app=quickbite-frontend')[0]['metadata']['name']
    em.set_pod_phase(victim, 'Failed')
    with pytest.raises(Exception) as exc:
        em.exec_backend(NS, victim)
    assert str(exc.value) == 'cannot exec into a container in a completed pod; current phase is Failed'


def test_statefulset_recreates_an_evicted_pod(api, em):
    core, apps = api
    uid = core.read_namespaced_pod('postgres-0', NS).metadata.uid
    em.set_pod_phase('postgres-0', 'Evicted')

    def replaced():
        # between the controller's delete and its create the name is free: a 404 is "not yet"
        pods = core.list_namespaced_pod(NS, field_selector='metadata.name=postgres-0').items
        return bool(pods) and pods[0].metadata.uid != uid and pods[0].status.phase == 'Running'
    wait_for(replaced, what='new postgres-0')


def test_phase_control_endpoint(k8s, em):
    victim = em.list('pods', label_selector='app=quickbite-frontend')[0]['metadata']['name']
    req = urllib.request.Request(k8s.url + '/_emulator/phase', method='POST',
                                 data=json.dumps({'target': victim, 'phase': 'Succeeded'}).encode())
    assert json.load(urlopen(req, timeout=5))['ok']
    assert em.get('pods', victim)['status']['phase'] == 'Succeeded'


# ------------------------------------------------------------------ paused Deployments (item 4)

def restart_patch(apps, name):
    apps.patch_namespaced_deployment(name, NS, {'spec': {'template': {'metadata': {'annotations': {
        'kubectl.kubernetes.io/restartedAt': str(time.time())}}}}})


def test_paused_deployment_is_not_rolled_out_but_is_scaled(api, em):
    core, apps = api
    apps.patch_namespaced_deployment('quickbite-frontend', NS, {'spec': {'paused': True}})
    wait_for(lambda: {c.type: c.reason for c in apps.read_namespaced_deployment(
        'quickbite-frontend', NS).status.conditions}['Progressing'] == 'DeploymentPaused', what='paused')
    restart_patch(apps, 'quickbite-frontend')
    apps.patch_namespaced_deployment_scale('quickbite-frontend', NS, {'spec': {'replicas': 3}})
    wait_for(lambda: (apps.read_namespaced_deployment('quickbite-frontend', NS).status.available_replicas or 0) == 3,
             what='scaled while paused')
    d = apps.read_namespaced_deployment('quickbite-frontend', NS)
    assert d.status.observed_generation == d.metadata.generation
    assert not d.status.updated_replicas          # no new ReplicaSet while paused
    assert len(apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-frontend').items) == 1
    cond = {c.type: c for c in d.status.conditions}['Progressing']
    assert (cond.status, cond.reason, cond.message) == ('Unknown', 'DeploymentPaused', 'Deployment is paused')
    apps.patch_namespaced_deployment('quickbite-frontend', NS, {'spec': {'paused': False}})
    wait_for(lambda: em.rollout_complete('quickbite-frontend'), what='rollout after resume')
    assert len(apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-frontend').items) == 2


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_on_a_paused_deployment(k8s, em, version):
    assert kubectl(k8s, version, 'rollout', 'pause', 'deployment/redis').returncode == 0
    proc = kubectl(k8s, version, 'rollout', 'restart', 'deployment/redis')
    assert proc.returncode != 0 and "can't restart paused deployment (run rollout resume first)" in proc.stderr
    em.api_patch('deployments', NS, 'redis', {'spec': {'template': {'metadata': {'annotations': {'x': '1'}}}}},
                 'application/strategic-merge-patch+json')
    proc = kubectl(k8s, version, 'rollout', 'status', 'deployment/redis', '--timeout=1s')
    assert proc.returncode != 0
    assert 'Waiting for deployment "redis" rollout to finish: 0 out of 1 new replicas have been updated' in proc.stdout
    assert kubectl(k8s, version, 'rollout', 'resume', 'deployment/redis').returncode == 0
    proc = kubectl(k8s, version, 'rollout', 'status', 'deployment/redis', '--timeout=20s')
    assert proc.returncode == 0 and 'successfully rolled out' in proc.stdout


# ------------------------------------------------------------------ a hung endpoint (item 5)

def test_hung_endpoint_accepts_and_never_answers(k8s, em):
    em.set_hang(r'/api/v1/namespaces/[^/]+/pods')
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    core = client.CoreV1Api(api_client)
    try:
        started = time.time()
        with pytest.raises(Exception) as exc:      # urllib3's ReadTimeoutError: connected, no answer
            core.list_namespaced_pod(NS, _request_timeout=(2, 0.2))
        # the client (kubernetes 37: urllib3 Retry(total=3)) sends a timed-out read 3 more times
        assert 'read timed out' in str(exc.value).lower() and 0.7 < time.time() - started < 3
        assert em.hung == 4
        assert core.read_namespaced_secret('quickbite-secrets', NS).metadata.name   # others still answer
    finally:
        em.set_hang(r'/api/v1/namespaces/[^/]+/pods', on=False)
    assert core.list_namespaced_pod(NS).items
    api_client.close()


def test_hang_everything_at_run_time_over_http(k8s, em):
    def control(on):
        req = urllib.request.Request(k8s.url + '/_emulator/hang', method='POST',
                                     data=json.dumps({'on': on}).encode())
        return json.load(urlopen(req, timeout=5))

    control(True)
    answer = []
    sock = socket.create_connection(('127.0.0.1', k8s.port), timeout=5)
    try:
        sock.sendall(b'GET /version HTTP/1.1\r\nHost: x\r\n\r\n')
        reader = threading.Thread(target=lambda: answer.append(sock.recv(100)))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and not answer      # accepted, no answer
        control(False)                               # switched off: the held request is dropped unanswered
        reader.join(2)
        assert answer == [b'']
    finally:
        sock.close()
    assert json.load(urlopen(k8s.url + '/version', timeout=5))['major'] == '1'
