"""Authentication and authorization in the emulator (issue 12 items 6 and 7):
HTTPS with a CA the tests create, a required bearer token, an in-cluster
service-account directory, and RBAC (Role/RoleBinding, ClusterRole,
ServiceAccount tokens) with the API server's 403 wording; checked with the
real ``kubernetes`` client and kubectl."""

import json
import ssl
import urllib.error
import urllib.request

import pytest

kubernetes = pytest.importorskip('kubernetes')
from kubernetes import client, config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.config.incluster_config import InClusterConfigLoader  # noqa: E402
from kubernetes.stream import stream  # noqa: E402

from k8s_emulator import EmulatorThread  # noqa: E402
from k8s_emulator import kubectl as kubectl_bin  # noqa: E402
from k8s_emulator.tls import make_certificates, write_service_account  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
ADMIN_TOKEN = 'admin-token-0123456789'
OPS_TOKEN = 'ops-token-0123456789'
OPS_USER = 'system:serviceaccount:quickbite:quickbite-ops'
KUBECTLS = kubectl_bin.kubectls()
RULES = [
    {'apiGroups': [''], 'resources': ['pods', 'pods/log'], 'verbs': ['get', 'list']},
    {'apiGroups': [''], 'resources': ['pods/exec'], 'verbs': ['get']},
    {'apiGroups': ['apps'], 'resources': ['deployments'], 'verbs': ['get', 'list', 'watch']},
    {'apiGroups': ['apps'], 'resources': ['deployments'], 'verbs': ['patch'], 'resourceNames': ['redis']},
    {'apiGroups': ['apps'], 'resources': ['*/scale'], 'verbs': ['get']},
    {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'], 'verbs': ['create', 'get', 'update']},
]
ROLE = {'kind': 'Role', 'apiVersion': 'rbac.authorization.k8s.io/v1', 'metadata': {'name': 'quickbite-ops'},
        'rules': RULES}
BINDING = {'kind': 'RoleBinding', 'apiVersion': 'rbac.authorization.k8s.io/v1', 'metadata': {'name': 'quickbite-ops'},
           'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'Role', 'name': 'quickbite-ops'},
           'subjects': [{'kind': 'ServiceAccount', 'name': 'quickbite-ops', 'namespace': NS}]}


@pytest.fixture(scope='module')
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp('pki'))


@pytest.fixture(scope='module')
def k8s(tmp_path_factory, certs):
    with EmulatorThread(tls=certs, token=ADMIN_TOKEN, rbac=True, service_account_tokens={'quickbite-ops': OPS_TOKEN},
                        rbac_objects=[ROLE, BINDING], pod_start_delay=0.05, tick=0.05) as k:
        k.kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'admin')
        k.ops_kubeconfig = k.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'ops', token=OPS_TOKEN)
        yield k


@pytest.fixture
def em(k8s):
    k8s.emulator.reset()
    k8s.emulator.exec_create_check = True
    yield k8s.emulator
    k8s.emulator.exec_create_check = True
    k8s.emulator.set_exec_backend('postgres', None)
    assert k8s.emulator.last_error is None, k8s.emulator.last_error


@pytest.fixture
def ops(k8s, em):
    """Clients with the quickbite-ops ServiceAccount's token, from its kubeconfig (CA verified)."""
    api_client = config.new_client_from_config(config_file=str(k8s.ops_kubeconfig))
    yield client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    api_client.close()


def _opener(certs):
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(
        context=ssl.create_default_context(cafile=certs['ca'])))


def forbidden(call, *args, **kwargs):
    with pytest.raises(ApiException) as exc:
        call(*args, **kwargs)
    body = json.loads(exc.value.body)
    assert exc.value.status == 403 and body['reason'] == 'Forbidden' and body['kind'] == 'Status', body
    return body['message']


# ------------------------------------------------------------------ TLS and tokens (item 6)

def test_https_with_the_tests_ca_and_a_required_token(k8s, certs):
    assert k8s.url.startswith('https://127.0.0.1:')
    assert 'certificate-authority: %s' % certs['ca'] in open(k8s.kubeconfig).read()
    api_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    assert client.CoreV1Api(api_client).read_namespace(NS).metadata.name == NS
    api_client.close()
    opener = _opener(certs)
    with pytest.raises(urllib.error.HTTPError) as exc:
        opener.open(k8s.url + '/api/v1/namespaces/quickbite/pods', timeout=5)
    assert exc.value.code == 401 and json.loads(exc.value.read())['reason'] == 'Unauthorized'
    wrong = urllib.request.Request(k8s.url + '/api/v1/namespaces', headers={'Authorization': 'Bearer nope'})
    with pytest.raises(urllib.error.HTTPError) as exc:
        opener.open(wrong, timeout=5)
    assert exc.value.code == 401
    untrusting = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(
        context=ssl.create_default_context()))
    with pytest.raises(urllib.error.URLError) as exc:
        untrusting.open(k8s.url + '/version', timeout=5)
    assert 'CERTIFICATE_VERIFY_FAILED' in str(exc.value)


def test_in_cluster_service_account_directory(k8s, certs, tmp_path, em):
    sa_dir = write_service_account(tmp_path / 'serviceaccount', OPS_TOKEN, certs['ca'], NS)
    assert sa_dir == str(tmp_path / 'serviceaccount')
    assert sorted(p.name for p in (tmp_path / 'serviceaccount').iterdir()) == ['ca.crt', 'namespace', 'token']
    assert (tmp_path / 'serviceaccount' / 'namespace').read_text() == NS
    assert oct((tmp_path / 'serviceaccount' / 'token').stat().st_mode & 0o777) == '0o600'
    cfg = client.Configuration()
    InClusterConfigLoader(token_filename=str(tmp_path / 'serviceaccount' / 'token'),
                          cert_filename=str(tmp_path / 'serviceaccount' / 'ca.crt'),
                          environ={'KUBERNETES_SERVICE_HOST': '127.0.0.1',
                                   'KUBERNETES_SERVICE_PORT': str(k8s.port)}).load_and_set(cfg)
    api_client = client.ApiClient(cfg)
    assert len(client.CoreV1Api(api_client).list_namespaced_pod(NS).items) == 7
    api_client.close()


# ------------------------------------------------------------------ RBAC (item 7)

def test_role_grants_exactly_its_rules(ops, em):
    core, apps = ops
    assert len(core.list_namespaced_pod(NS).items) == 7
    pod = core.list_namespaced_pod(NS, label_selector='app=redis').items[0].metadata.name
    assert 'Ready to accept connections' in core.read_namespaced_pod_log(pod, NS)
    assert apps.read_namespaced_deployment_scale('redis', NS).spec.replicas == 1
    assert forbidden(core.list_namespaced_secret, NS) == (
        'secrets is forbidden: User "%s" cannot list resource "secrets" in API group "" in the namespace '
        '"quickbite"' % OPS_USER)
    assert forbidden(core.read_namespaced_secret, 'quickbite-secrets', NS) == (
        'secrets "quickbite-secrets" is forbidden: User "%s" cannot get resource "secrets" in API group "" in '
        'the namespace "quickbite"' % OPS_USER)
    assert forbidden(core.delete_namespaced_pod, pod, NS) == (
        'pods "%s" is forbidden: User "%s" cannot delete resource "pods" in API group "" in the namespace '
        '"quickbite"' % (pod, OPS_USER))
    assert forbidden(apps.patch_namespaced_deployment_scale, 'redis', NS, {'spec': {'replicas': 2}}) == (
        'deployments.apps "redis" is forbidden: User "%s" cannot patch resource "deployments/scale" in API group '
        '"apps" in the namespace "quickbite"' % OPS_USER)
    assert forbidden(core.list_namespace) == (
        'namespaces is forbidden: User "%s" cannot list resource "namespaces" in API group "" at the cluster '
        'scope' % OPS_USER)
    assert forbidden(core.list_namespaced_pod, 'default').endswith('in the namespace "default"')


def test_resource_names_and_watch(ops, em):
    core, apps = ops
    patch = {'metadata': {'annotations': {'checked': 'yes'}}}
    apps.patch_namespaced_deployment('redis', NS, patch)
    assert em.get('deployments', 'redis')['metadata']['annotations']['checked'] == 'yes'
    assert 'cannot patch resource "deployments"' in forbidden(apps.patch_namespaced_deployment, 'postgres', NS, patch)
    assert forbidden(core.list_namespaced_pod, NS, watch=True, timeout_seconds=1).startswith(
        'pods is forbidden: User "%s" cannot watch resource "pods"' % OPS_USER)
    deployments = apps.list_namespaced_deployment(NS, watch=True, timeout_seconds=1, _preload_content=False)
    assert b'"ADDED"' in deployments.read()


def test_exec_needs_create_on_pods_exec(k8s, certs, ops, em):
    core, apps = ops
    em.set_exec_backend('postgres', [])
    pod = core.list_namespaced_pod(NS, label_selector='app=postgres').items[0].metadata.name

    def exec_echo():
        return stream(core.connect_get_namespaced_pod_exec, pod, NS, command=['echo', 'hi'], stderr=True,
                      stdin=False, stdout=True, tty=False)

    with pytest.raises(ApiException) as exc:     # the client's WebSocket handshake keeps no body
        exec_echo()
    assert '403' in str(exc.value)
    # the upgrade request as the client sends it (GET), read with urllib for the Status body
    url = '%s/api/v1/namespaces/%s/pods/%s/exec?command=echo&command=hi&stdout=true' % (k8s.url, NS, pod)
    request = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + OPS_TOKEN, 'Connection': 'Upgrade',
                                                   'Upgrade': 'websocket', 'Sec-WebSocket-Version': '13',
                                                   'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
                                                   'Sec-WebSocket-Protocol': 'v5.channel.k8s.io'})
    with pytest.raises(urllib.error.HTTPError) as exc:
        _opener(certs).open(request, timeout=5)
    body = json.loads(exc.value.read())
    assert exc.value.code == 403 and body['message'] == (
        'pods "%s" is forbidden: User "%s" cannot create resource "pods/exec" in API group "" in the namespace '
        '"quickbite"' % (pod, OPS_USER))
    em.exec_create_check = False        # a server before 1.35: the WebSocket GET needs only get
    assert exec_echo() == 'hi\n'
    em.exec_create_check = True
    role = em.get('roles', 'quickbite-ops')
    role['rules'][1]['verbs'] = ['get', 'create']
    em.api_replace('roles', NS, 'quickbite-ops', role)
    assert exec_echo() == 'hi\n'


def test_roles_created_through_the_api_and_cluster_roles(k8s, em):
    admin_client = config.new_client_from_config(config_file=str(k8s.kubeconfig))
    rbac_api = client.RbacAuthorizationV1Api(admin_client)
    token = em.service_account_token('reader')
    reader = k8s.api_client(token=token)
    core = client.CoreV1Api(reader)
    user = 'system:serviceaccount:quickbite:reader'
    assert 'User "%s" cannot list resource "configmaps"' % user in forbidden(core.list_namespaced_config_map, NS)
    rbac_api.create_cluster_role({'metadata': {'name': 'configmap-reader'}, 'rules': [
        {'apiGroups': [''], 'resources': ['configmaps'], 'verbs': ['list']}]})
    rbac_api.create_namespaced_role_binding(NS, {
        'metadata': {'name': 'readers'}, 'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole',
                                                     'name': 'configmap-reader'},
        'subjects': [{'kind': 'Group', 'name': 'system:serviceaccounts:quickbite'}]})
    assert core.list_namespaced_config_map(NS).items == []
    assert 'in the namespace "default"' in forbidden(core.list_namespaced_config_map, 'default')
    assert [sa.metadata.name for sa in client.CoreV1Api(admin_client).list_namespaced_service_account(NS).items] == [
        'quickbite-ops', 'reader']
    with pytest.raises(ApiException) as exc:
        client.CoreV1Api(k8s.api_client(token='not-a-token')).list_namespaced_pod(NS)
    assert exc.value.status == 401
    admin_client.close()
    reader.close()


@pytest.mark.skipif(not KUBECTLS, reason='no kubectl found')
@pytest.mark.parametrize('version', sorted(KUBECTLS))
def test_kubectl_with_the_service_account_token(k8s, em, version):
    proc = kubectl_bin.run(KUBECTLS[version], k8s.ops_kubeconfig, 'get', 'pods', '-l', 'app=redis')
    assert proc.returncode == 0 and 'Running' in proc.stdout, proc.stderr
    proc = kubectl_bin.run(KUBECTLS[version], k8s.ops_kubeconfig, 'get', 'secrets')
    assert proc.returncode != 0
    assert ('Error from server (Forbidden): secrets is forbidden: User "%s" cannot list resource "secrets" in API '
            'group "" in the namespace "quickbite"' % OPS_USER) in proc.stderr
    proc = kubectl_bin.run(KUBECTLS[version], k8s.ops_kubeconfig, 'rollout', 'status', 'deployment/redis',
                           '--timeout=10s')
    assert proc.returncode == 0 and 'successfully rolled out' in proc.stdout, proc.stderr


def test_serve_command_with_tls_rbac_statefulsets_and_sidecars(tmp_path):
    """The foreground server (Molecule, a shell) takes the same options."""
    import os
    import signal
    import subprocess
    import sys
    import time
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rbac_file = tmp_path / 'rbac.json'
    rbac_file.write_text(json.dumps([ROLE, BINDING]))
    kubeconfig = tmp_path / 'kubeconfig'
    proc = subprocess.Popen([sys.executable, '-m', 'tests.k8s_emulator', 'serve', '--port', '0', '--kubeconfig',
                             str(kubeconfig), '--token', ADMIN_TOKEN, '--tls-dir', str(tmp_path / 'pki'),
                             '--statefulset', 'postgres', '--sidecar', 'quickbite-backend',
                             '--service-account', 'quickbite-ops=' + OPS_TOKEN, '--rbac', str(rbac_file)],
                            cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 15
        while not kubeconfig.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
        url = api_client.configuration.host
        assert url.startswith('https://') and (tmp_path / 'pki' / 'ca.crt').exists()
        apps = client.AppsV1Api(api_client)
        assert apps.read_namespaced_stateful_set('postgres', NS).spec.replicas == 1
        assert [c.name for c in apps.read_namespaced_deployment('quickbite-backend', NS)
                .spec.template.spec.containers] == ['backend', 'log-shipper']
        api_client.close()
        ops_cfg = client.Configuration()
        ops_cfg.host, ops_cfg.ssl_ca_cert = url, str(tmp_path / 'pki' / 'ca.crt')
        ops_cfg.api_key = {'authorization': 'Bearer ' + OPS_TOKEN}
        ops_client = client.ApiClient(ops_cfg)
        assert client.CoreV1Api(ops_client).list_namespaced_pod(NS).items
        assert 'cannot list resource "secrets"' in forbidden(client.CoreV1Api(ops_client).list_namespaced_secret, NS)
        ops_client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode == 0, out
    assert 'listening on https://127.0.0.1:' in out
