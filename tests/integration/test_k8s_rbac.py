"""Least privilege, proven (issue 12 item 7): the Role shipped in
deploy/k8s-rbac.yml, bound to a ServiceAccount token, is enough for every
platform step of the procedures (the emulator enforcing RBAC), and each of its
verbs is needed: with one verb removed, the step that uses it fails with
"forbidden: needs <verb> on <resource>". One case per verb, each a few calls
through the adapter (no playbook)."""
import copy
import os
import subprocess
import time

import pytest
import yaml

pytest.importorskip('kubernetes')

from conftest import ROOT  # noqa: E402
from k8s_emulator import EmulatorThread  # noqa: E402

from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError  # noqa: E402
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _locks  # noqa: E402
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter  # noqa: E402

pytestmark = [pytest.mark.k8s]

NS = 'quickbite'
TOKEN = 'quickbite-ops-sa-token-0123456789'
with open(os.path.join(ROOT, 'deploy', 'k8s-rbac.yml')) as _handle:
    MANIFEST = yaml.safe_load(_handle)['items']  # a v1 List
ROLE = next(doc for doc in MANIFEST if doc['kind'] == 'Role')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    objects = [doc for doc in MANIFEST if doc['kind'] in ('Role', 'RoleBinding')]
    with EmulatorThread(pod_start_delay=0.05, rbac=True, service_account_tokens={'quickbite-ops': TOKEN},
                        rbac_objects=objects, statefulsets=('redis',), exec_backends={'postgres': []}) as k8s:
        k8s.kubeconfig = str(k8s.write_kubeconfig(tmp_path_factory.mktemp('kube') / 'config', token=TOKEN))
        yield k8s


@pytest.fixture
def adapter(cluster):
    cluster.emulator.reset()
    return KubernetesAdapter(None, dict(namespace=NS, secret_name='quickbite-secrets', context=None,
                                        kubeconfig=cluster.kubeconfig, deployments={}))


def _pod(adapter, service):
    return sorted(r['name'] for r in adapter.services([service])[0]['replicas'])[0]


def _exec(adapter):
    spawn = adapter.exec_spawn('postgres')
    proc = spawn(['true'], subprocess.DEVNULL, subprocess.DEVNULL, subprocess.DEVNULL)
    assert proc.wait(20) == 0


def _take_over(adapter, cluster):
    """An expired Lease of a killed run, then this run takes it over (an update)."""
    from kubernetes import client
    stamp = _locks._micro_now(time.time() - 600)
    client.CoordinationV1Api(cluster.api_client(token='emulator-dummy-token')).create_namespaced_lease(NS, {
        'metadata': {'name': _locks.LEASE_LOCK}, 'spec': {'holderIdentity': 'dead/1/x', 'leaseDurationSeconds': 60,
                                                          'acquireTime': stamp, 'renewTime': stamp}})
    lock = adapter.lock('restart backend')
    lock.acquire()
    lock._stop.set()


def _release(adapter):
    lock = adapter.lock('restart backend')
    lock.acquire()
    lock.release()


def _backend_env_from_a_configmap(adapter, cluster):
    """The backend's pods take a key from ConfigMap quickbite-config (set up by the admin)."""
    from kubernetes import client
    admin = cluster.api_client(token='emulator-dummy-token')
    client.CoreV1Api(admin).create_namespaced_config_map(NS, {'metadata': {'name': 'quickbite-config'},
                                                              'data': {'QUICKBITE_FROM_CONFIGMAP': 'yes'}})
    client.AppsV1Api(admin).patch_namespaced_deployment('quickbite-backend', NS, {'spec': {'template': {'spec': {
        'containers': [{'name': 'backend', 'envFrom': [{'configMapRef': {'name': 'quickbite-config'}}]}]}}}})
    deadline, seen = time.time() + 20, None
    while True:
        try:
            seen = adapter.runtime_env('backend')
            if seen['env'].get('QUICKBITE_FROM_CONFIGMAP') == 'yes':
                return
        except QuickbiteError as exc:
            if 'forbidden' in exc.msg:
                raise
            seen = exc.msg
        assert time.time() < deadline, 'no backend pod with the ConfigMap came up: %s' % (seen,)
        time.sleep(0.05)


def _alerting(adapter, what, times):
    """The monitoring role's object of ``what`` written ``times`` times (1:
    read and create; 2: then read and patch)."""
    for index in range(times):
        every = '%ds' % (index + 1)
        if what == 'rules':
            adapter.write_alert_rules('quickbite-alerts', [{'name': 'quickbite', 'rules': [], 'interval': every}], {})
        else:
            adapter.write_alert_routing('quickbite-oncall', {'route': {'receiver': 'r', 'groupWait': every},
                                                             'receivers': [{'name': 'r'}]}, {})


# (apiGroup, resource, verb) -> the step that needs it.
STEPS = {
    ('', 'pods', 'list'): lambda a, c: a.services(['backend']),
    ('', 'pods', 'get'): lambda a, c: a.delete_replica(_pod(a, 'frontend')),
    ('', 'pods', 'delete'): lambda a, c: a.delete_replica(_pod(a, 'frontend')),
    ('', 'pods/log', 'get'): lambda a, c: a.logs('backend', tail=5),
    ('', 'pods/exec', 'get'): lambda a, c: _exec(a),
    ('', 'pods/exec', 'create'): lambda a, c: _exec(a),
    ('', 'events', 'list'): lambda a, c: a.incident_state(['backend']),
    ('', 'configmaps', 'get'): _backend_env_from_a_configmap,
    ('', 'services', 'list'): lambda a, c: a.service_addresses('postgres', 5432),
    ('', 'secrets', 'get'): lambda a, c: a.get_config('JWT_SECRET'),
    ('', 'secrets', 'patch'): lambda a, c: a.set_config('JWT_SECRET_PREVIOUS', 'x'),
    ('', 'secrets', 'create'): lambda a, c: a.store().save('jwt_secret', {'phase': 'set'}),
    ('apps', 'deployments', 'get'): lambda a, c: a.workload('backend'),
    ('apps', 'deployments', 'patch'): lambda a, c: a.restart('backend'),
    ('apps', 'statefulsets', 'get'): lambda a, c: a.workload('redis'),
    ('apps', 'statefulsets', 'patch'): lambda a, c: a.restart('redis'),
    ('apps', 'deployments/scale', 'patch'): lambda a, c: a.scale('frontend', 3),
    ('apps', 'statefulsets/scale', 'patch'): lambda a, c: a.scale('redis', 1),
    ('apps', 'replicasets', 'list'): lambda a, c: a.history('backend'),
    ('apps', 'controllerrevisions', 'get'): lambda a, c: a.workload('redis'),
    ('apps', 'controllerrevisions', 'list'): lambda a, c: a.history('redis'),
    ('coordination.k8s.io', 'leases', 'get'): lambda a, c: _release(a),
    ('coordination.k8s.io', 'leases', 'create'): lambda a, c: _release(a),
    ('coordination.k8s.io', 'leases', 'update'): _take_over,
    ('coordination.k8s.io', 'leases', 'delete'): lambda a, c: _release(a),
    ('monitoring.coreos.com', 'prometheusrules', 'get'): lambda a, c: a.read_alert_rules('quickbite-alerts'),
    ('monitoring.coreos.com', 'prometheusrules', 'create'): lambda a, c: _alerting(a, 'rules', 1),
    ('monitoring.coreos.com', 'prometheusrules', 'patch'): lambda a, c: _alerting(a, 'rules', 2),
    ('monitoring.coreos.com', 'alertmanagerconfigs', 'get'): lambda a, c: a.read_alert_routing('quickbite-oncall'),
    ('monitoring.coreos.com', 'alertmanagerconfigs', 'create'): lambda a, c: _alerting(a, 'routing', 1),
    ('monitoring.coreos.com', 'alertmanagerconfigs', 'patch'): lambda a, c: _alerting(a, 'routing', 2),
    ('networking.k8s.io', 'ingresses', 'list'): lambda a, c: a.ingresses(),
    ('networking.k8s.io', 'ingresses', 'get'): lambda a, c: a.set_ingress_annotations('quickbite', {
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600'}),
    ('networking.k8s.io', 'ingresses', 'patch'): lambda a, c: a.set_ingress_annotations('quickbite', {
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600'}),
}


def _granted():
    return sorted((group, resource, verb) for rule in ROLE['rules'] for group in rule['apiGroups']
                  for resource in rule['resources'] for verb in rule['verbs'])


def test_every_verb_of_the_role_has_its_case_and_nothing_more_is_granted():
    assert _granted() == sorted(STEPS)
    assert not any('*' in rule['verbs'] or '*' in rule['resources'] or rule.get('resourceNames')
                   for rule in ROLE['rules'])


def test_the_role_is_enough_for_every_step(adapter, cluster):
    for key, step in sorted(STEPS.items()):
        cluster.emulator.reset()
        step(adapter, cluster)


def _without(group, resource, verb):
    role = copy.deepcopy(ROLE)
    rules = []
    for rule in role['rules']:
        if group in rule['apiGroups'] and resource in rule['resources']:
            rest = [r for r in rule['resources'] if r != resource]
            if rest:
                rules.append(dict(rule, resources=rest))
            verbs = [v for v in rule['verbs'] if v != verb]
            if verbs:
                rules.append(dict(rule, resources=[resource], verbs=verbs))
        else:
            rules.append(rule)
    role['rules'] = rules
    return role


CASE_IDS = ['%s-%s' % (key[1].replace('/', '.'), key[2]) for key in sorted(STEPS)]


@pytest.mark.parametrize('group,resource,verb', sorted(STEPS), ids=CASE_IDS)
def test_removing_a_verb_fails_the_step_that_needs_it(adapter, cluster, group, resource, verb):
    from kubernetes import client
    role = _without(group, resource, verb)
    client.RbacAuthorizationV1Api(cluster.api_client(token='emulator-dummy-token')).replace_namespaced_role(
        'quickbite-ops', NS, role)
    with pytest.raises((QuickbiteError, OSError)) as info:
        STEPS[(group, resource, verb)](adapter, cluster)
    message = getattr(info.value, 'msg', None) or str(info.value)
    qualified = '%s.%s' % (resource, group) if group else resource
    assert 'forbidden: needs %s on %s' % (verb, qualified) in message, message
