"""The emulator's StatefulSet controller (issue 12 item 1), driven by the real
``kubernetes`` client and by every kubectl found: ordered pod names,
OrderedReady and Parallel, RollingUpdate with partition and OnDelete,
ControllerRevisions and the status fields kubectl's rollout status reads."""

import time

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config  # noqa: E402

from k8s_defaults import wait_for  # noqa: E402
from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
MERGE = 'application/merge-patch+json'
KUBECTLS = kubectl_bin.kubectls()


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    with EmulatorThread(statefulsets=('postgres', 'redis'), pod_start_delay=0.1, tick=0.02) as k:
        k.kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config')
        yield k


@pytest.fixture
def em(k8s):
    k8s.emulator.reset()
    k8s.emulator.pod_terminate_delay = 0.0
    yield k8s.emulator
    k8s.emulator.pod_terminate_delay = 0.0
    assert k8s.emulator.last_error is None, k8s.emulator.last_error


@pytest.fixture
def apps(k8s, em):
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    yield client.AppsV1Api(api_client)
    api_client.close()


def pods(em, app='redis'):
    return {p['metadata']['name']: p for p in em.list('pods', label_selector='app=' + app)}


def ready(pod):
    return any(c['type'] == 'Ready' and c['status'] == 'True' for c in pod['status'].get('conditions') or [])


def restart(em, name='redis', stamp='1'):
    em.api_patch('statefulsets', NS, name, {'spec': {'template': {'metadata': {'annotations': {
        'kubectl.kubernetes.io/restartedAt': stamp}}}}}, MERGE)


def test_seed_option_runs_postgres_and_redis_as_statefulsets(apps, em):
    assert sorted(d.metadata.name for d in apps.list_namespaced_deployment(NS).items) == [
        'quickbite-backend', 'quickbite-frontend']
    sts = apps.read_namespaced_stateful_set('postgres', NS)
    assert sts.spec.service_name == 'postgres' and sts.spec.pod_management_policy == 'OrderedReady'
    assert sts.spec.update_strategy.type == 'RollingUpdate' and sts.spec.update_strategy.rolling_update.partition == 0
    st = sts.status
    assert (st.observed_generation, st.replicas, st.ready_replicas, st.available_replicas, st.current_replicas,
            st.updated_replicas) == (1, 1, 1, 1, 1, 1)
    assert st.current_revision == st.update_revision and st.update_revision.startswith('postgres-')
    pod = pods(em, 'postgres')['postgres-0']
    labels = pod['metadata']['labels']
    assert labels['controller-revision-hash'] == st.update_revision
    assert labels['statefulset.kubernetes.io/pod-name'] == 'postgres-0'
    assert labels['apps.kubernetes.io/pod-index'] == '0'
    assert pod['spec']['hostname'] == 'postgres-0' and pod['spec']['subdomain'] == 'postgres'
    assert pod['metadata']['ownerReferences'][0]['kind'] == 'StatefulSet'
    revisions = apps.list_namespaced_controller_revision(NS, label_selector='app=postgres').items
    assert [(r.metadata.name, r.revision) for r in revisions] == [(st.update_revision, 1)]


def test_ordered_ready_scale_up_and_down(apps, em):
    em.pod_terminate_delay = 0.2
    apps.patch_namespaced_stateful_set_scale('redis', NS, {'spec': {'replicas': 3}})
    seen = []

    def check():
        now = pods(em)
        names = sorted(now)
        seen.append(names)
        for i in range(1, len(names)):     # never a pod before its predecessor is Ready
            assert ready(now['redis-%d' % (i - 1)]), names
        return len(names) == 3 and all(ready(p) for p in now.values())

    wait_for(check, what='3 ready pods')
    assert ['redis-0', 'redis-1'] in seen and sorted(pods(em)) == ['redis-0', 'redis-1', 'redis-2']
    assert apps.read_namespaced_stateful_set_scale('redis', NS).status.replicas == 3
    apps.patch_namespaced_stateful_set_scale('redis', NS, {'spec': {'replicas': 1}})
    terminating = []

    def check_down():
        now = pods(em)
        terminating.extend(n for n, p in now.items() if p['metadata'].get('deletionTimestamp')
                           and n not in terminating)
        assert sum(1 for p in now.values() if p['metadata'].get('deletionTimestamp')) <= 1
        return sorted(now) == ['redis-0']

    wait_for(check_down, what='scale down to redis-0')
    assert terminating == ['redis-2', 'redis-1']


def test_parallel_creates_all_at_once(apps, em):
    apps.patch_namespaced_stateful_set('redis', NS, {'spec': {'podManagementPolicy': 'Parallel'}})
    em.pod_start_delay = 1.0
    try:
        apps.patch_namespaced_stateful_set_scale('redis', NS, {'spec': {'replicas': 3}})
        wait_for(lambda: len(pods(em)) == 3, timeout=0.9, what='three pods before any is ready')
        assert not ready(pods(em)['redis-1'])
    finally:
        em.pod_start_delay = 0.1


def test_rolling_update_highest_ordinal_first(apps, em):
    apps.patch_namespaced_stateful_set_scale('redis', NS, {'spec': {'replicas': 3}})
    wait_for(lambda: em.statefulset_rollout_complete('redis'), what='3 replicas')
    before = apps.read_namespaced_stateful_set('redis', NS).status.update_revision
    restart(em)
    sts = apps.read_namespaced_stateful_set('redis', NS)
    assert sts.metadata.generation == 3
    wait_for(lambda: em.statefulset_rollout_complete('redis'), what='rolling update')
    st = apps.read_namespaced_stateful_set('redis', NS).status
    assert st.update_revision != before and st.current_revision == st.update_revision
    assert (st.updated_replicas, st.current_replicas, st.ready_replicas) == (3, 3, 3)
    deleted = [e['message'] for e in sorted(em.list('events'), key=lambda e: int(e['metadata']['resourceVersion']))
               if e['reason'] == 'SuccessfulDelete' and e['involvedObject']['kind'] == 'StatefulSet']
    assert deleted == ['delete Pod redis-%d in StatefulSet redis successful' % i for i in (2, 1, 0)]
    assert {p['metadata']['labels']['controller-revision-hash'] for p in pods(em).values()} == {st.update_revision}
    revisions = apps.list_namespaced_controller_revision(NS, label_selector='app=redis').items
    assert sorted(r.revision for r in revisions) == [1, 2]


def test_partition_keeps_lower_ordinals(apps, em):
    apps.patch_namespaced_stateful_set('redis', NS, {'spec': {'replicas': 3, 'updateStrategy': {
        'rollingUpdate': {'partition': 2}}}})
    wait_for(lambda: len([p for p in pods(em).values() if ready(p)]) == 3, what='3 replicas')
    old = apps.read_namespaced_stateful_set('redis', NS).status.current_revision
    restart(em)
    wait_for(lambda: em.statefulset_rollout_complete('redis'), what='partitioned roll out')
    st = apps.read_namespaced_stateful_set('redis', NS).status
    assert st.current_revision == old != st.update_revision
    assert (st.updated_replicas, st.current_replicas) == (1, 2)
    revs = {n: p['metadata']['labels']['controller-revision-hash'] for n, p in pods(em).items()}
    assert revs == {'redis-0': old, 'redis-1': old, 'redis-2': st.update_revision}
    # a deleted pod below the partition comes back at the current revision
    em.api_delete('pods', NS, 'redis-0')
    wait_for(lambda: 'redis-0' in pods(em) and ready(pods(em)['redis-0']), what='redis-0 back')
    assert pods(em)['redis-0']['metadata']['labels']['controller-revision-hash'] == old


def test_on_delete_waits_for_a_deletion(apps, em):
    with pytest.raises(client.ApiException) as exc:     # as the API server validates it
        apps.patch_namespaced_stateful_set('redis', NS, {'spec': {'updateStrategy': {'type': 'OnDelete'}}})
    assert exc.value.status == 422 and "only allowed for updateStrategy 'RollingUpdate'" in exc.value.body
    apps.patch_namespaced_stateful_set('redis', NS, {'spec': {'updateStrategy': {
        'type': 'OnDelete', 'rollingUpdate': None}}})
    assert apps.read_namespaced_stateful_set('redis', NS).spec.update_strategy.rolling_update is None
    old = apps.read_namespaced_stateful_set('redis', NS).status.current_revision
    restart(em)
    wait_for(lambda: apps.read_namespaced_stateful_set('redis', NS).status.update_revision != old, what='revision')
    time.sleep(0.2)     # several controller ticks: OnDelete must not touch the pod
    assert pods(em)['redis-0']['metadata']['labels']['controller-revision-hash'] == old
    em.api_delete('pods', NS, 'redis-0')
    st = apps.read_namespaced_stateful_set('redis', NS).status
    wait_for(lambda: 'redis-0' in pods(em) and ready(pods(em)['redis-0']), what='redis-0 back')
    assert pods(em)['redis-0']['metadata']['labels']['controller-revision-hash'] == st.update_revision


def test_revision_history_limit(apps, em):
    apps.patch_namespaced_stateful_set('redis', NS, {'spec': {'revisionHistoryLimit': 1}})
    for stamp in ('1', '2', '3'):
        restart(em, stamp=stamp)
        wait_for(lambda: em.statefulset_rollout_complete('redis'), what='rollout %s' % stamp)
    revisions = apps.list_namespaced_controller_revision(NS, label_selector='app=redis').items
    assert sorted(r.revision for r in revisions) == [3, 4]     # the current one and one idle


def test_deleted_pod_returns_under_its_name_and_delete_cascades(apps, em):
    uid = pods(em)['redis-0']['metadata']['uid']
    em.api_delete('pods', NS, 'redis-0')
    wait_for(lambda: 'redis-0' in pods(em) and pods(em)['redis-0']['metadata']['uid'] != uid, what='new redis-0')
    apps.delete_namespaced_stateful_set('redis', NS)
    wait_for(lambda: not pods(em), what='pods gone')
    assert not apps.list_namespaced_controller_revision(NS, label_selector='app=redis').items


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_rollout_restart_status_and_scale(k8s, em, version):
    path = KUBECTLS[version]

    def kubectl(*args):
        proc = kubectl_bin.run(path, k8s.kubeconfig, *args)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    kubectl('scale', 'statefulset/redis', '--replicas=2')
    assert 'partitioned roll out complete: 2 new pods have been updated' in kubectl(
        'rollout', 'status', 'statefulset/redis', '--timeout=20s')
    kubectl('rollout', 'restart', 'statefulset/redis')
    out = kubectl('rollout', 'status', 'statefulset/redis', '--timeout=20s')
    assert out.rstrip().endswith('partitioned roll out complete: 2 new pods have been updated...')
    assert em.statefulset_rollout_complete('redis')
    first = em.list('controllerrevisions', label_selector='app=redis')
    kubectl('rollout', 'undo', 'statefulset/redis')     # revision 1's ControllerRevision comes back as 3
    assert 'partitioned roll out complete' in kubectl('rollout', 'status', 'statefulset/redis', '--timeout=20s')
    history = kubectl('rollout', 'history', 'statefulset/redis').split()
    assert history[history.index('CHANGE-CAUSE') + 1::2] == ['2', '3']
    revision_one = next(r['metadata']['name'] for r in first if r['revision'] == 1)
    assert em.get('statefulsets', 'redis')['status']['updateRevision'] == revision_one
    assert 'redis' in kubectl('get', 'statefulsets')
    assert 'redis-1' in kubectl('get', 'pods', '-l', 'app=redis')
