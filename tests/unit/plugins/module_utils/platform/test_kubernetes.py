import datetime

import pytest
from kubernetes.client import (V1ContainerState, V1ContainerStateWaiting, V1ContainerStatus, V1LabelSelector,
                               V1LabelSelectorRequirement, V1ObjectMeta, V1Pod, V1PodCondition, V1PodSpec,
                               V1PodStatus, V1Container)

from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import selector_string
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import (
    parse_duration, replica_from_pod)


def _pod(name, ready=True, waiting=None, restarts=0, deleting=False):
    state = V1ContainerState(waiting=V1ContainerStateWaiting(reason=waiting)) if waiting else None
    return V1Pod(
        metadata=V1ObjectMeta(name=name, deletion_timestamp=datetime.datetime.now() if deleting else None),
        spec=V1PodSpec(containers=[V1Container(name='backend', image='quickbite/backend:1.0')]),
        status=V1PodStatus(phase='Running', conditions=[V1PodCondition(type='Ready', status=str(ready))],
                           container_statuses=[V1ContainerStatus(
                               name='backend', image='quickbite/backend:1.0', image_id='', ready=ready,
                               restart_count=restarts, state=state)]))


def test_ready_pod():
    rep = replica_from_pod(_pod('b-1'))
    assert rep['ready'] and rep['reason'] is None and rep['image'] == 'quickbite/backend:1.0'


def test_crashloop_pod_reports_reason_and_restarts():
    rep = replica_from_pod(_pod('b-2', ready=False, waiting='CrashLoopBackOff', restarts=7))
    assert not rep['ready'] and rep['reason'] == 'CrashLoopBackOff' and rep['restart_count'] == 7


def test_terminating_pod_is_marked():
    assert replica_from_pod(_pod('b-3', deleting=True))['terminating']


def test_selector_string_labels_and_expressions():
    sel = V1LabelSelector(match_labels={'app': 'quickbite-backend', 'tier': 'api'}, match_expressions=[
        V1LabelSelectorRequirement(key='track', operator='In', values=['stable', 'canary']),
        V1LabelSelectorRequirement(key='debug', operator='DoesNotExist')])
    assert selector_string(sel) == 'app=quickbite-backend,tier=api,track in (stable,canary),!debug'
    assert selector_string({'matchLabels': {'app': 'x'}}) == 'app=x'


def test_parse_duration():
    assert parse_duration('1h30m') == 5400
    assert parse_duration('90s') == 90
    with pytest.raises(ValueError):
        parse_duration('soon')
