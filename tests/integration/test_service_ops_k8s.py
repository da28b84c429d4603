"""Restart, scale and rollback playbooks on the Kubernetes path, against the
API emulator; every claim is checked by reading the emulator's objects."""
import pytest

from conftest import run_playbook
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

DEP = 'quickbite-backend'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory) as k8s:
        yield k8s


@pytest.fixture
def k8s(cluster):
    cluster.emulator.reset()
    cluster.emulator.set_progress_deadline(None)
    yield cluster


def _vars(k8s, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, healthcheck_checks=['platform'])
    base.update(extra)
    return base


def _dep(k8s):
    return k8s.emulator.get('deployments', DEP)


def _revision(k8s):
    return int(_dep(k8s)['metadata']['annotations']['deployment.kubernetes.io/revision'])


def _pods(k8s):
    return sorted(p['metadata']['name'] for p in k8s.emulator.list('pods', label_selector='app=' + DEP)
                  if not p['metadata'].get('deletionTimestamp'))


def test_rolling_restart_keeps_availability_and_names_revisions(k8s, tmp_path):
    generation, pods = _dep(k8s)['metadata']['generation'], _pods(k8s)
    run = run_playbook('restart.yml', inventory='inventory/k8s', extra=_vars(k8s), check=True, tmp_path=tmp_path)
    assert run.rc == 0 and run.result('restart')['msg'] == 'would rolling restart backend'
    assert _dep(k8s)['metadata']['generation'] == generation and _pods(k8s) == pods

    k8s.emulator.clear_history(DEP)
    run = run_playbook('restart.yml', inventory='inventory/k8s', extra=_vars(k8s), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('restart')['msg'] == 'done: rolling restart backend (revision 1 -> 2)'
    dep = _dep(k8s)
    assert 'kubectl.kubernetes.io/restartedAt' in dep['spec']['template']['metadata']['annotations']
    assert 'kubectl.kubernetes.io/restartedAt' not in dep['metadata'].get('annotations', {})
    assert dep['metadata']['annotations']['quickbite.ops/previous-revision'] == '1'
    assert set(_pods(k8s)).isdisjoint(pods) and len(_pods(k8s)) == 3
    samples = k8s.emulator.availability_history(DEP)
    assert samples and min(available for _t, available, _d in samples) >= 3, samples  # maxUnavailable 0
    assert run.result('restart')['health']['status'] == 'UP'


def test_delete_pod_waits_for_its_replacement(k8s, tmp_path):
    victim = _pods(k8s)[0]
    run = run_playbook('restart.yml', inventory='inventory/k8s', extra=_vars(k8s, restart_pod=victim), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert victim not in _pods(k8s) and len(_pods(k8s)) == 3
    ready = [p for p in k8s.emulator.list('pods', label_selector='app=' + DEP)
             if any(c['type'] == 'Ready' and c['status'] == 'True' for c in p['status'].get('conditions', []))]
    assert len(ready) == 3


def test_scale_up_idempotent_and_back(k8s, tmp_path):
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=_vars(k8s, scale_replicas=5), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert _dep(k8s)['spec']['replicas'] == 5 and len(_pods(k8s)) == 5
    assert _dep(k8s)['status']['availableReplicas'] == 5
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=_vars(k8s, scale_replicas=5), tmp_path=tmp_path)
    assert run.rc == 0 and run.result('scale')['changed'] is False
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=_vars(k8s, scale_replicas=3), check=True,
                       tmp_path=tmp_path)
    assert run.result('scale')['msg'] == 'would scale backend from 5 to 3' and _dep(k8s)['spec']['replicas'] == 5
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=_vars(k8s, scale_replicas=3), tmp_path=tmp_path)
    assert run.rc == 0 and len(_pods(k8s)) == 3


def test_rollback_undo_and_undo_of_undo(k8s, tmp_path):
    image_v1 = _dep(k8s)['spec']['template']['spec']['containers'][0]['image']
    run = run_playbook('restart.yml', inventory='inventory/k8s', extra=_vars(k8s), tmp_path=tmp_path)
    assert run.rc == 0 and _revision(k8s) == 2
    template_v2 = _dep(k8s)['spec']['template']

    run = run_playbook('rollback.yml', inventory='inventory/k8s', extra=_vars(k8s), check=True, tmp_path=tmp_path)
    assert run.result('rollback')['msg'].startswith('would roll back backend from revision 2') and _revision(k8s) == 2

    run = run_playbook('rollback.yml', inventory='inventory/k8s', extra=_vars(k8s), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    dep = _dep(k8s)
    assert _revision(k8s) == 3  # revision 1's ReplicaSet, re-numbered, as kubectl undo does
    assert 'kubectl.kubernetes.io/restartedAt' not in (dep['spec']['template']['metadata'].get('annotations') or {})
    assert dep['spec']['template']['spec']['containers'][0]['image'] == image_v1
    assert dep['metadata']['annotations']['quickbite.ops/previous-revision'] == '2'
    assert run.result('rollback')['msg'].startswith('rolled back backend: revision 2')

    run = run_playbook('rollback.yml', inventory='inventory/k8s', extra=_vars(k8s), tmp_path=tmp_path)
    assert run.rc == 0 and _revision(k8s) == 4
    annotations = _dep(k8s)['spec']['template']['metadata']['annotations']
    assert annotations['kubectl.kubernetes.io/restartedAt'] == template_v2['metadata']['annotations'][
        'kubectl.kubernetes.io/restartedAt']

    run = run_playbook('rollback.yml', inventory='inventory/k8s', extra=_vars(k8s, rollback_to='99'), tmp_path=tmp_path)
    assert run.rc != 0 and 'has no revision 99 to roll back to (revisions kept: 3, 4)' in run.output


def test_rollout_that_never_completes_fails_with_the_reason(k8s, tmp_path):
    k8s.emulator.fail_new_pods(DEP, True)
    k8s.emulator.set_progress_deadline(2)
    run = run_playbook('restart.yml', inventory='inventory/k8s', extra=_vars(k8s, restart_wait_timeout=60),
                       tmp_path=tmp_path)
    assert run.rc != 0
    assert 'deployment quickbite-backend exceeded its progress deadline' in run.output
    # maxUnavailable 0: the old pods still serve.
    assert _dep(k8s)['status']['availableReplicas'] == 3
    k8s.emulator.fail_new_pods(DEP, False)


@pytest.mark.parametrize('playbook, extra, message', [
    ('restart.yml', dict(restart_services=['worker']), 'unknown service(s) worker for restart_services'),
    ('restart.yml', dict(restart_pod='no-such-pod'), 'reading pod no-such-pod in namespace quickbite: 404'),
    ('scale.yml', dict(scale_replicas=-2), 'scale_replicas must be between 0 and 50, got -2'),
    ('rollback.yml', dict(rollback_unpin=True), 'rollback_unpin applies to Compose only'),
    ('rollback.yml', dict(rollback_to='abc'), "rollback_to 'abc' is not a revision number; on Kubernetes set "
     'rollback_to to one of the revisions kept'),
])
def test_bad_input_is_named(k8s, tmp_path, playbook, extra, message):
    run = run_playbook(playbook, inventory='inventory/k8s', extra=_vars(k8s, **extra), tmp_path=tmp_path)
    assert run.rc != 0 and message in run.output, run.output[-2000:]


MANIFEST = """\
# QuickBite on Kubernetes (trimmed)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: quickbite-backend
  namespace: quickbite
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: backend
          image: quickbite/backend:1.0
          resources:
            requests: {cpu: 250m, memory: 512Mi}
            limits: {cpu: "1", memory: 1Gi}
---
apiVersion: v1
kind: Service
metadata:
  name: quickbite-backend
"""

RESOURCES = {'requests': {'cpu': '500m', 'memory': '1Gi'}, 'limits': {'cpu': '2', 'memory': '2Gi'}}


def test_vertical_scaling_sets_cluster_and_manifest(k8s, tmp_path):
    import yaml
    manifest = tmp_path / 'deploy.yaml'
    manifest.write_text(MANIFEST)
    extra = _vars(k8s, scale_resources=RESOURCES, scale_manifest=str(manifest))
    revision = _revision(k8s)
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=extra, check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert 'would set resources of backend/backend on the deployment and in' in run.result('scale')['msg']
    assert manifest.read_text() == MANIFEST and _revision(k8s) == revision

    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    container = _dep(k8s)['spec']['template']['spec']['containers'][0]
    assert container['resources'] == RESOURCES and _revision(k8s) == revision + 1
    docs = list(yaml.safe_load_all(manifest.read_text()))
    assert docs[0]['spec']['template']['spec']['containers'][0]['resources'] == RESOURCES
    assert docs[1] == {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'quickbite-backend'}}

    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0 and run.result('scale')['changed'] is False


@pytest.mark.parametrize('resources, message', [
    ({'requests': {'cpu': 'lots'}}, "scale_resources.requests.cpu: 'lots' is not a Kubernetes quantity"),
    ({'requests': {'memory': '4Gi'}, 'limits': {'memory': '2Gi'}}, 'requests.memory 4Gi is above limits.memory 2Gi'),
    ({'requests': 'abc'}, "scale_resources.requests: 'abc' is not a mapping of cpu and memory"),
])
def test_bad_resources_change_nothing(k8s, tmp_path, resources, message):
    before = _dep(k8s)
    run = run_playbook('scale.yml', inventory='inventory/k8s', extra=_vars(k8s, scale_resources=resources),
                       tmp_path=tmp_path)
    assert run.rc != 0 and message in run.output
    assert _dep(k8s)['metadata']['generation'] == before['metadata']['generation']
