"""Issue 14 part B on the Kubernetes path, against the API emulator: its
networking.k8s.io/v1 Ingress (CRUD, patch, list, validation), and the
WebSocket timeouts of an Ingress diagnosed and fixed by patching its
annotations (check mode first: a diff, nothing patched). No stack: the
frontend pods' nginx cannot be exec'd into by default here (no exec backend),
which the diagnosis reports as SKIPPED with the reason; one test gives the
frontend pods a stand-in nginx (its exec backend prints a configuration file
as `nginx -T` does), so the nginx part of the check runs over pod exec too."""
import os
import sys

import pytest
from kubernetes import client as k8s_client

from conftest import run_playbook
from k8s_emulator import ApiError
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

READ = 'nginx.ingress.kubernetes.io/proxy-read-timeout'
SEND = 'nginx.ingress.kubernetes.io/proxy-send-timeout'


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    with emulator(tmp_path_factory) as k8s:
        yield k8s


def _api(k8s):
    return k8s_client.NetworkingV1Api(k8s.api_client())


def _vars(k8s, **extra):
    return dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, **extra)


def test_the_emulator_serves_ingresses(k8s):
    api = _api(k8s)
    seeded = api.read_namespaced_ingress('quickbite', 'quickbite')
    assert seeded.metadata.annotations[READ] == '3600' and seeded.metadata.generation == 1
    assert [p.path for p in seeded.spec.rules[0].http.paths] == ['/api', '/ws', '/']
    body = {'metadata': {'name': 'extra', 'labels': {'tier': 'edge'}},
            'spec': {'rules': [{'http': {'paths': [{'path': '/x', 'pathType': 'Prefix', 'backend': {
                'service': {'name': 'quickbite-frontend', 'port': {'number': 80}}}}]}}]}}
    api.create_namespaced_ingress('quickbite', body)
    assert sorted(i.metadata.name for i in api.list_namespaced_ingress('quickbite').items) == ['extra', 'quickbite']
    assert [i.metadata.name for i in api.list_namespaced_ingress('quickbite', label_selector='tier=edge').items] == [
        'extra']
    patched = api.patch_namespaced_ingress('extra', 'quickbite', {'metadata': {'annotations': {READ: '90'}}})
    assert patched.metadata.annotations == {READ: '90'} and patched.metadata.generation == 1
    assert patched.spec.rules[0].http.paths[0].path == '/x'
    api.delete_namespaced_ingress('extra', 'quickbite')
    assert [i.metadata.name for i in api.list_namespaced_ingress('quickbite').items] == ['quickbite']
    # The API server's own validation (the Python client refuses a missing pathType before sending it).
    bad = {'metadata': {'name': 'bad'}, 'spec': {'rules': [{'http': {'paths': [
        {'path': '/x', 'backend': {'service': {'name': 'quickbite-frontend', 'port': {'number': 80}}}}]}}]}}
    with pytest.raises(ApiError) as refused:
        k8s.emulator.api_create('ingresses', 'quickbite', bad)
    assert refused.value.code == 422 and 'pathType: Unsupported value' in refused.value.message
    with pytest.raises(ApiError) as refused:
        k8s.emulator.api_create('ingresses', 'quickbite', {'metadata': {'name': 'empty'}, 'spec': {}})
    assert refused.value.code == 422 and 'either `defaultBackend` or `rules`' in refused.value.message


def test_low_ingress_annotations_named_then_fixed_by_patch(k8s, tmp_path):
    api = _api(k8s)
    api.patch_namespaced_ingress('quickbite', 'quickbite', {'metadata': {'annotations': {READ: '30', SEND: None}}})
    diagnosis = run_playbook('diagnose.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=_vars(
        k8s, diagnose_checks=['websocket_timeouts']))
    assert diagnosis.rc != 0, diagnosis.output
    found = diagnosis.result('diagnose')
    lines = [f['line'] for f in found['problems']]
    assert len(lines) == 1 and 'Ingress quickbite closes idle WebSockets before 3600 s' in lines[0], lines
    assert 'proxy-read-timeout=30' in lines[0] and 'proxy-send-timeout=unset' in lines[0]
    assert 'run playbooks/fix_websocket_timeouts.yml' in lines[0]
    skipped = [f for f in found['findings'] if f['status'] == 'SKIPPED']
    assert skipped and 'cannot read the nginx configuration' in skipped[0]['summary']

    check = run_playbook('fix_websocket_timeouts.yml', inventory='inventory/k8s', tmp_path=tmp_path, check=True,
                         extra=_vars(k8s), env={'ANSIBLE_DIFF_ALWAYS': '1'})
    assert check.rc == 0, check.output
    planned = check.result('frontend_fix')
    assert planned['changed'] is True and 'proxy-read-timeout: "30"' in planned['diff']['before']
    assert 'proxy-read-timeout: "3600"' in planned['diff']['after']
    assert api.read_namespaced_ingress('quickbite', 'quickbite').metadata.annotations[READ] == '30'

    fixed = run_playbook('fix_websocket_timeouts.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=_vars(k8s))
    assert fixed.rc == 0, fixed.output
    assert fixed.result('frontend_fix')['changed'] is True
    annotations = api.read_namespaced_ingress('quickbite', 'quickbite').metadata.annotations
    assert annotations[READ] == '3600' and annotations[SEND] == '3600'
    assert annotations['nginx.ingress.kubernetes.io/proxy-body-size'] == '10m'
    assert fixed.result('diagnose')['problems'] == []

    again = run_playbook('fix_websocket_timeouts.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                         extra=_vars(k8s, fix_websocket_timeouts_verify=False))
    assert again.rc == 0 and again.result('frontend_fix')['changed'] is False, again.output


FAKE_NGINX = """import sys
conf, argv = sys.argv[1], sys.argv[2:]
if argv[:2] != ['nginx', '-T']:
    sys.exit('stand-in nginx: only nginx -T')
sys.stdout.write('# configuration file /etc/nginx/nginx.conf:\\n' + open(conf).read() + '\\n')
"""


def test_nginx_in_the_frontend_pods_is_read_over_pod_exec(k8s, tmp_path):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '..', '..', 'stack', 'frontend', 'nginx.conf')) as handle:
        conf = handle.read().replace('proxy_read_timeout 3600s;', 'proxy_read_timeout 30s;')
    (tmp_path / 'nginx.conf').write_text(conf)
    (tmp_path / 'fake_nginx.py').write_text(FAKE_NGINX)
    k8s.emulator.set_exec_backend('quickbite-frontend', [sys.executable, str(tmp_path / 'fake_nginx.py'),
                                                         str(tmp_path / 'nginx.conf')])
    try:
        run = run_playbook('diagnose.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=_vars(
            k8s, diagnose_checks=['websocket_timeouts'], diagnose_fail=False))
    finally:
        k8s.emulator.set_exec_backend('quickbite-frontend', None)
    assert run.rc == 0, run.output
    found = run.result('diagnose')
    lines = [f['line'] for f in found['problems']]
    assert len(lines) == 1 and 'nginx location /ws (server 127.0.0.1:__FRONTEND_PORT__)' in lines[0], lines
    assert 'proxy_read_timeout 30s (location /ws, /etc/nginx/nginx.conf line' in lines[0]
    assert any('OK - Ingress quickbite' in f['line'] for f in found['findings'])
    assert any(entry[0].startswith('quickbite-frontend-') and entry[2][:2] == ['nginx', '-T']
               for entry in k8s.emulator.exec_log)
