"""Workload kinds, kubectl's StatefulSet rollout rules, ended pods and the
main container of a pod with sidecars (issue 12 items 1-3), on client models."""
import pytest
from kubernetes.client import (V1Container, V1ContainerState, V1ContainerStateRunning, V1ContainerStateWaiting,
                               V1ContainerStatus, V1LabelSelector, V1ObjectMeta, V1Pod, V1PodCondition, V1PodSpec,
                               V1PodStatus, V1PodTemplateSpec,
                               V1RollingUpdateStatefulSetStrategy, V1StatefulSet, V1StatefulSetSpec,
                               V1StatefulSetStatus, V1StatefulSetUpdateStrategy)

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_pods import (
    ended, log_plan, main_containers, replica_from_pod)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_workloads import (
    WorkloadRef, statefulset_status)


def _sts(generation=2, observed=2, replicas=3, ready=3, updated=3, current='a', update='a', strategy='RollingUpdate',
         partition=0):
    rolling = V1RollingUpdateStatefulSetStrategy(partition=partition) if partition is not None else None
    return V1StatefulSet(
        metadata=V1ObjectMeta(name='postgres', generation=generation),
        spec=V1StatefulSetSpec(replicas=replicas, selector=V1LabelSelector(match_labels={'app': 'postgres'}),
                               service_name='postgres', template=V1PodTemplateSpec(spec=V1PodSpec(
                                   containers=[V1Container(name='postgres')])),
                               update_strategy=V1StatefulSetUpdateStrategy(type=strategy, rolling_update=rolling)),
        status=V1StatefulSetStatus(observed_generation=observed, replicas=replicas, ready_replicas=ready,
                                   updated_replicas=updated, current_revision=current, update_revision=update))


@pytest.mark.parametrize('kwargs, done, message', [
    (dict(observed=1), False, 'waiting for statefulset postgres spec update to be observed'),
    (dict(observed=None), False, 'spec update to be observed'),
    (dict(ready=2), False, 'waiting for 1 pods to be ready'),
    (dict(updated=1), False, 'waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated'),
    (dict(updated=1, partition=2), True, 'partitioned roll out complete: 1 new pods have been updated'),
    (dict(update='b'), True, 'partitioned roll out complete'),  # kubectl: partition given, revisions not compared
    (dict(update='b', partition=None), False, 'waiting for statefulset rolling update to complete'),
    (dict(partition=None), True, 'statefulset rolling update complete'),
])
def test_statefulset_rollout_rules_are_kubectls(kwargs, done, message):
    got_done, got_message = statefulset_status(_sts(**kwargs))
    assert got_done is done and message in got_message


def test_on_delete_statefulset_has_no_rollout_status():
    with pytest.raises(PlatformError, match='only available for the RollingUpdate strategy'):
        statefulset_status(_sts(strategy='OnDelete', partition=None))


@pytest.mark.parametrize('entry, kind, name, container, external', [
    ('quickbite-backend', None, 'quickbite-backend', None, False),
    ('statefulset/pg', 'StatefulSet', 'pg', None, False),
    ('deploy/x', 'Deployment', 'x', None, False),
    ({'name': 'pg', 'kind': 'sts', 'container': 'postgres'}, 'StatefulSet', 'pg', 'postgres', False),
    ({'external': True}, None, 'postgres', None, True),
])
def test_workload_entries(entry, kind, name, container, external):
    ref = WorkloadRef('postgres', entry)
    assert (ref.kind, ref.name, ref.container, ref.external) == (kind, name, container, external)


@pytest.mark.parametrize('entry, message', [
    ('job/x', "kind 'job' is not a Deployment or a StatefulSet"),
    ({'nmae': 'x'}, 'unknown key(s) nmae'),
    (None, 'give a workload name'),
])
def test_bad_workload_entries_name_the_variable(entry, message):
    with pytest.raises(ConfigError, match='quickbite_k8s_deployments.postgres') as info:
        WorkloadRef('postgres', entry)
    assert message in info.value.msg


def _pod(containers, phase='Running', annotations=None, statuses=None, reason=None):
    return V1Pod(metadata=V1ObjectMeta(name='p-0', annotations=annotations),
                 spec=V1PodSpec(containers=[V1Container(name=n, image=n + ':1') for n in containers]),
                 status=V1PodStatus(phase=phase, reason=reason, conditions=[V1PodCondition(type='Ready', status='True')],
                                    container_statuses=statuses))


@pytest.mark.parametrize('containers, annotations, entry, expected', [
    (['backend'], None, None, ['backend']),
    (['log-shipper', 'backend'], None, None, ['backend']),             # named for the service
    (['istio-proxy', 'app'], None, None, ['app']),                     # first non-sidecar
    (['a', 'b'], {'kubectl.kubernetes.io/default-container': 'b'}, None, ['b']),
    (['backend', 'log-shipper'], None, {'container': 'log-shipper'}, ['log-shipper']),
    (['backend', 'log-shipper'], None, {'container': '*'}, ['backend', 'log-shipper']),
])
def test_main_container(containers, annotations, entry, expected):
    ref = WorkloadRef('backend', entry or 'quickbite-backend')
    assert main_containers(_pod(containers, annotations=annotations), ref) == expected


def test_a_mapped_container_that_is_missing_is_named():
    with pytest.raises(ConfigError, match='has no container nginx'):
        main_containers(_pod(['backend']), WorkloadRef('backend', {'container': 'nginx'}))


@pytest.mark.parametrize('phase, is_ended', [('Running', False), ('Pending', False), ('Failed', True),
                                             ('Succeeded', True)])
def test_ended_pods_as_kubectl_judges_them(phase, is_ended):
    pod = _pod(['backend'], phase=phase, reason='Evicted' if phase == 'Failed' else None)
    assert ended(pod) is is_ended
    rep = replica_from_pod(pod)
    assert rep['ready'] is not is_ended
    if phase == 'Failed':
        assert rep['reason'] == 'Evicted'


def test_log_plan_notes_only_what_kubectl_would_refuse():
    waiting = V1ContainerStatus(name='backend', image='b', image_id='', ready=False, restart_count=0,
                                state=V1ContainerState(waiting=V1ContainerStateWaiting(reason='ContainerCreating')))
    running = V1ContainerStatus(name='log-shipper', image='l', image_id='', ready=True, restart_count=0,
                                state=V1ContainerState(running=V1ContainerStateRunning()))
    pod = _pod(['backend', 'log-shipper'], statuses=[waiting, running])
    ref = WorkloadRef('backend', {'container': '*'})
    assert log_plan(pod, ref, previous=False) == [
        ('backend', 'container backend is waiting to start (ContainerCreating): no log yet'), ('log-shipper', None)]
    assert [note for _c, note in log_plan(pod, ref, previous=True)] == [
        'no previous container (never restarted)'] * 2
