"""Kubernetes credentials as AWX and kubernetes.core give them (issue 12 item 6),
against the emulator serving TLS with a CA the tests make and requiring the
bearer token: host + api_key + ca_cert from module options (role variables),
from the K8S_AUTH_* environment (AWX's Kubernetes credential), and the
in-cluster service account (a directory the tests write, the library's file
names pointed at it); kubernetes.core's order of precedence; refusals name
the way forward."""
import pytest

pytest.importorskip('kubernetes')

from conftest import run_playbook  # noqa: E402
from k8s_emulator import EmulatorThread, tls  # noqa: E402

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError  # noqa: E402
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_client  # noqa: E402

pytestmark = [pytest.mark.k8s]

TOKEN = 'awx-credential-token-0123456789'
AUTH_ENV = ('K8S_AUTH_HOST', 'K8S_AUTH_API_KEY', 'K8S_AUTH_SSL_CA_CERT', 'K8S_AUTH_CA_CERT', 'K8S_AUTH_VERIFY_SSL',
            'K8S_AUTH_VALIDATE_CERTS', 'K8S_AUTH_KUBECONFIG', 'K8S_AUTH_CONTEXT', 'KUBECONFIG',
            'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    certs = tls.make_certificates(str(tmp_path_factory.mktemp('pki')))
    with EmulatorThread(tls=certs, token=TOKEN, pod_start_delay=0.05) as k8s:
        k8s.certs = certs
        yield k8s


@pytest.fixture
def k8s(cluster, monkeypatch, tmp_path):
    cluster.emulator.reset()
    for name in AUTH_ENV:
        monkeypatch.delenv(name, raising=False)
    # No kubeconfig to fall back on unless a test writes one.
    monkeypatch.setenv('HOME', str(tmp_path))
    yield cluster


def _pods(api_client):
    from kubernetes import client
    return sorted(p.metadata.name for p in client.CoreV1Api(api_client).list_namespaced_pod('quickbite').items)


def test_token_and_ca_from_options(k8s):
    api = _k8s_client.build_api_client(host=k8s.url + '/', api_key=TOKEN, ca_cert=k8s.certs['ca'])
    assert api.configuration.host == k8s.url and api.configuration.verify_ssl is True
    assert any(name.startswith('quickbite-backend-') for name in _pods(api))


def test_token_and_ca_from_the_awx_environment(k8s, monkeypatch):
    monkeypatch.setenv('K8S_AUTH_HOST', k8s.url)
    monkeypatch.setenv('K8S_AUTH_API_KEY', TOKEN)
    monkeypatch.setenv('K8S_AUTH_SSL_CA_CERT', k8s.certs['ca'])
    monkeypatch.setenv('K8S_AUTH_VERIFY_SSL', 'True')
    client = _k8s_client.K8sClient(namespace='quickbite')
    assert client.host == k8s.url
    assert client.call('listing pods', client.core.list_namespaced_pod, 'quickbite').items
    # K8S_AUTH_VERIFY_SSL=false is read as kubernetes.core reads booleans; an option wins over the environment.
    monkeypatch.setenv('K8S_AUTH_VERIFY_SSL', 'no')
    assert _k8s_client.auth_settings({})['validate_certs'] is False
    assert _k8s_client.auth_settings({'host': 'https://option:6443'})['host'] == 'https://option:6443'


def test_in_cluster_service_account(k8s, monkeypatch, tmp_path):
    from kubernetes.config import incluster_config
    account = tls.write_service_account(tmp_path / 'serviceaccount', TOKEN, k8s.certs['ca'])
    monkeypatch.setattr(incluster_config, 'SERVICE_TOKEN_FILENAME', str(tmp_path / 'serviceaccount' / 'token'))
    monkeypatch.setattr(incluster_config, 'SERVICE_CERT_FILENAME', account + '/ca.crt')
    monkeypatch.setenv('KUBERNETES_SERVICE_HOST', '127.0.0.1')
    monkeypatch.setenv('KUBERNETES_SERVICE_PORT', k8s.url.rsplit(':', 1)[1])
    api = _k8s_client.build_api_client()
    assert api.configuration.host == 'https://127.0.0.1:%s' % k8s.url.rsplit(':', 1)[1]
    assert any(name.startswith('postgres-') for name in _pods(api))


def test_precedence_host_and_token_over_kubeconfig_and_kubeconfig_over_in_cluster(k8s, monkeypatch, tmp_path):
    wrong = k8s.write_kubeconfig(tmp_path / 'wrong', token='not-the-token')
    # host + api_key: enough, the kubeconfig (even a wrong one) is not read.
    api = _k8s_client.build_api_client(kubeconfig=str(wrong), host=k8s.url, api_key=TOKEN, ca_cert=k8s.certs['ca'])
    assert _pods(api)
    # A kubeconfig given (here through K8S_AUTH_KUBECONFIG) is used, with its user's token: refused.
    monkeypatch.setenv('K8S_AUTH_KUBECONFIG', str(wrong))
    client = _k8s_client.K8sClient(namespace='quickbite')
    with pytest.raises(PlatformError) as info:
        client.call('listing pods', client.core.list_namespaced_pod, 'quickbite')
    assert ': 401 ' in info.value.msg and 'check the credentials' in info.value.msg
    # ... unless api_key overrides the kubeconfig's token, as kubernetes.core does.
    client = _k8s_client.K8sClient(namespace='quickbite', api_key=TOKEN)
    assert client.call('listing pods', client.core.list_namespaced_pod, 'quickbite').items


def test_no_credentials_anywhere_names_the_variables(k8s):
    with pytest.raises(ConfigError) as info:
        _k8s_client.build_api_client()
    assert 'in-cluster service account, else the default kubeconfig' in info.value.msg
    assert 'quickbite_k8s_host with quickbite_k8s_api_key and quickbite_k8s_ca_cert' in info.value.msg


def test_an_untrusted_certificate_is_refused_unless_verify_ssl_is_off(k8s):
    client = _k8s_client.K8sClient(namespace='quickbite', host=k8s.url, api_key=TOKEN)
    with pytest.raises(PlatformError) as info:
        client.call('listing pods', client.core.list_namespaced_pod, 'quickbite')
    assert 'CERTIFICATE_VERIFY_FAILED' in info.value.msg
    client = _k8s_client.K8sClient(namespace='quickbite', host=k8s.url, api_key=TOKEN, validate_certs=False)
    assert client.call('listing pods', client.core.list_namespaced_pod, 'quickbite').items


@pytest.mark.integration
@pytest.mark.parametrize('source', ['variables', 'environment'])
def test_playbook_reaches_the_cluster_with_token_and_ca(k8s, tmp_path, source):
    """Through the role's module_defaults (variables) and AWX's injected environment, inventory/k8s as shipped."""
    extra = dict(healthcheck_checks=['platform'], quickbite_backend_url='http://127.0.0.1:9',
                 quickbite_frontend_url='http://127.0.0.1:9')
    env = {'HOME': str(tmp_path)}
    if source == 'variables':
        extra.update(quickbite_k8s_host=k8s.url, quickbite_k8s_api_key=TOKEN, quickbite_k8s_ca_cert=k8s.certs['ca'])
    else:
        env.update(K8S_AUTH_HOST=k8s.url, K8S_AUTH_API_KEY=TOKEN, K8S_AUTH_SSL_CA_CERT=k8s.certs['ca'],
                   K8S_AUTH_VERIFY_SSL='true')
    run = run_playbook('healthcheck.yml', inventory='inventory/k8s', extra=extra, env=env, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    report = run.result('healthcheck')
    assert report['target'] == 'namespace quickbite at %s' % k8s.url and report['status'] == 'UP'
    assert TOKEN not in run.output + repr(run.records)
