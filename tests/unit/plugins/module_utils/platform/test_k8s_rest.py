"""_k8s_rest: the API by path through the real kubernetes ApiClient (to a
local HTTP server that records each request), and objects that read as the
generated models read (checked against the models themselves)."""
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_rest
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_rest import RestApi, wrap

POD = {
    'apiVersion': 'v1', 'kind': 'Pod',
    'metadata': {'name': 'backend-7d9f-abc', 'namespace': 'quickbite', 'uid': 'u-1',
                 'creationTimestamp': '2026-11-30T20:00:01Z', 'labels': {'app': 'backend', 'items': 'x'},
                 'annotations': {'kubectl.kubernetes.io/restartedAt': '2026-11-30T19:00:00Z'},
                 'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'ReplicaSet', 'name': 'backend-7d9f',
                                      'uid': 'rs-1', 'controller': True}]},
    'spec': {'containers': [{'name': 'backend', 'image': 'quickbite/backend:1.0',
                             'resources': {'limits': {'memory': '512Mi'}, 'requests': {'cpu': '250m'}},
                             'env': [{'name': 'SPRING_PROFILES_ACTIVE', 'value': 'prod'}]}],
             'nodeSelector': {'disk': 'ssd'}},
    'status': {'phase': 'Running', 'podIP': '10.0.0.7', 'hostIP': '192.168.1.2',
               'startTime': '2026-11-30T20:00:02Z',
               'conditions': [{'type': 'Ready', 'status': 'True', 'lastTransitionTime': '2026-11-30T20:00:09Z'}],
               'containerStatuses': [{'name': 'backend', 'ready': True, 'restartCount': 3, 'image': 'i',
                                      'imageID': 'sha', 'containerID': 'containerd://c1',
                                      'state': {'running': {'startedAt': '2026-11-30T20:00:05Z'}},
                                      'lastState': {'terminated': {'exitCode': 137, 'reason': 'OOMKilled',
                                                                   'finishedAt': '2026-11-30T20:00:04Z'}}}]},
}


def _model(data, kind):
    from kubernetes import client as k8s_client
    return k8s_client.ApiClient().deserialize(json.dumps(data), kind, 'application/json')


@pytest.mark.parametrize('read', [
    lambda p: p.metadata.name,
    lambda p: p.metadata.uid,
    lambda p: p.metadata.creation_timestamp,
    lambda p: p.metadata.deletion_timestamp,
    lambda p: p.metadata.labels,
    lambda p: p.metadata.annotations,
    lambda p: p.metadata.owner_references[0].uid,
    lambda p: p.metadata.owner_references[0].controller,
    lambda p: p.spec.containers[0].resources.limits,
    lambda p: p.spec.containers[0].resources.requests,
    lambda p: p.spec.containers[0].env[0].value,
    lambda p: p.spec.node_selector,
    lambda p: p.spec.init_containers,
    lambda p: p.status.phase,
    lambda p: p.status.pod_ip,
    lambda p: p.status.host_ip,
    lambda p: p.status.start_time,
    lambda p: p.status.reason,
    lambda p: p.status.conditions[0].last_transition_time,
    lambda p: p.status.container_statuses[0].restart_count,
    lambda p: p.status.container_statuses[0].image_id,
    lambda p: p.status.container_statuses[0].container_id,
    lambda p: p.status.container_statuses[0].state.running.started_at,
    lambda p: p.status.container_statuses[0].state.waiting,
    lambda p: p.status.container_statuses[0].last_state.terminated.exit_code,
    lambda p: p.status.container_statuses[0].last_state.terminated.finished_at,
])
def test_an_object_reads_as_the_generated_model_reads(read):
    assert read(wrap(POD)) == read(_model(POD, 'V1Pod'))


def test_times_lists_selectors_and_bodies():
    pod = wrap(POD)
    assert pod.status.start_time == datetime.datetime(2026, 11, 30, 20, 0, 2, tzinfo=datetime.timezone.utc)
    listed = wrap({'kind': 'PodList', 'metadata': {'resourceVersion': '9'}, 'items': [POD, POD]})
    assert [p.metadata.name for p in listed.items] == ['backend-7d9f-abc'] * 2
    assert listed.metadata.resource_version == '9'
    dep = wrap({'spec': {'selector': {'matchLabels': {'app': 'backend'}}, 'replicas': 2}})
    assert dep.spec.selector.match_labels == {'app': 'backend'} and dep.spec.selector.match_expressions is None
    assert dep.spec.selector.to_dict() == {'matchLabels': {'app': 'backend'}}
    svc = wrap({'spec': {'selector': {'app': 'backend'}}})
    assert dict(svc.spec.selector) == {'app': 'backend'}
    # What a body sends back is what the server sent: camelCase, times as written.
    assert pod.spec.to_dict() == POD['spec'] and pod.to_dict() is not POD
    assert wrap({'a': 1}) == wrap({'a': 1}) and wrap({'a': 1}) != wrap({'a': 2})
    with pytest.raises(AttributeError):
        pod.__fspath__  # noqa: B018 (dunder lookups are not fields)
    import copy
    import pickle
    assert copy.deepcopy(pod).status.pod_ip == '10.0.0.7'
    assert pickle.loads(pickle.dumps(pod)).metadata.labels == {'app': 'backend', 'items': 'x'}


class _Recorder(BaseHTTPRequestHandler):
    replies = []
    seen = []

    def _answer(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.seen.append(dict(method=self.command, path=self.path, headers=dict(self.headers),
                              body=self.rfile.read(length).decode() if length else None))
        status, ctype, body = self.replies.pop(0)
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    from kubernetes import client as k8s_client
    server = HTTPServer(('127.0.0.1', 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    configuration = k8s_client.Configuration()
    configuration.host = 'http://127.0.0.1:%d' % server.server_address[1]
    configuration.api_key = {'authorization': 'Bearer tok-1'}
    _Recorder.replies, _Recorder.seen = [], []
    yield RestApi(k8s_client.ApiClient(configuration)), _Recorder
    server.shutdown()
    server.server_close()


def test_requests_go_by_path_with_the_token_query_and_patch_types(api):
    rest, rec = api
    rec.replies = [(200, 'application/json', json.dumps({'kind': 'PodList', 'items': [POD]})),
                   (200, 'text/plain', 'line 1\nline \xe9 2\n'),
                   (200, 'application/json', json.dumps({'kind': 'Secret', 'data': {'K': 'dg=='}})),
                   (200, 'application/json', json.dumps({'kind': 'Deployment'})),
                   (201, 'application/json', json.dumps({'kind': 'Lease'})),
                   (200, 'application/json', json.dumps({'kind': 'Status', 'status': 'Success'}))]
    pods = rest.list_namespaced_pod('quickbite', label_selector='app=backend,tier in (a,b)', _request_timeout=5)
    assert pods.items[0].status.pod_ip == '10.0.0.7'
    log = rest.read_namespaced_pod_log('backend-1', 'quickbite', container='backend', previous=False, tail_lines=50)
    assert log == 'line 1\nline \xe9 2\n'
    secret = rest.patch_namespaced_secret('quickbite-env', 'quickbite', {'data': {'K': 'dg=='}})
    assert secret.data == {'K': 'dg=='}
    rest.patch_namespaced_deployment('backend', 'quickbite', [{'op': 'replace', 'path': '/spec/replicas', 'value': 2}])
    rest.create_namespaced_lease('quickbite', {'kind': 'Lease'})
    rest.delete_namespaced_lease('lock', 'quickbite', body={'preconditions': {'uid': 'u'}})
    first, log_req, patch, json_patch, create, delete = rec.seen
    assert first['method'] == 'GET' and first['headers']['authorization'] == 'Bearer tok-1'
    assert first['path'] == '/api/v1/namespaces/quickbite/pods?labelSelector=app%3Dbackend%2Ctier%20in%20%28a%2Cb%29'
    assert log_req['path'] == ('/api/v1/namespaces/quickbite/pods/backend-1/log?container=backend&previous=false'
                               '&tailLines=50')
    assert patch['method'] == 'PATCH' and patch['headers']['Content-Type'] == 'application/strategic-merge-patch+json'
    assert json.loads(patch['body']) == {'data': {'K': 'dg=='}}
    assert json_patch['path'] == '/apis/apps/v1/namespaces/quickbite/deployments/backend'
    assert json_patch['headers']['Content-Type'] == 'application/json-patch+json'
    assert create['method'] == 'POST' and create['path'] == '/apis/coordination.k8s.io/v1/namespaces/quickbite/leases'
    assert delete['method'] == 'DELETE' and json.loads(delete['body']) == {'preconditions': {'uid': 'u'}}


def test_an_error_is_the_libraries_api_exception_and_an_empty_name_is_refused(api):
    from kubernetes.client.rest import ApiException
    rest, rec = api
    status = {'kind': 'Status', 'status': 'Failure', 'reason': 'NotFound', 'code': 404,
              'message': 'pods "x" not found'}
    rec.replies = [(404, 'application/json', json.dumps(status))]
    with pytest.raises(ApiException) as raised:
        rest.read_namespaced_pod('x', 'quickbite')
    assert raised.value.status == 404 and json.loads(raised.value.body)['message'] == 'pods "x" not found'
    with pytest.raises(ValueError, match='name is empty'):
        rest.read_namespaced_pod('', 'quickbite')
    with pytest.raises(AttributeError):
        rest.list_namespaced_node  # noqa: B018
    assert len(rec.seen) == 1


def test_no_generated_api_class_is_imported_by_the_adapter():
    import subprocess
    import sys
    code = ('import sys\n'
            'from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_client, _k8s_exec\n'
            'print(sorted(m for m in sys.modules if m.startswith("kubernetes.client.api.")))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                         env=dict(__import__('os').environ, PYTHONPATH=':'.join(sys.path))).stdout
    assert out.strip() == '[]'
    assert _k8s_rest.OPERATIONS['patch_namespaced_stateful_set_scale'][1].endswith('/statefulsets/{name}/scale')
