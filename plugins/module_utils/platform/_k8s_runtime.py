# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubernetesAdapter.runtime_env and service_addresses: the environment of
a service's running pod as the kubelet builds it (envFrom first, then env;
ConfigMap and Secret references and $(VAR) resolved, secrets included: the
caller masks them), and the names other pods reach a port of it by (the
Services that select its pods, the pods' own addresses)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import re

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import selector_string
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_pods import ended, main_containers

_REFERENCE = re.compile(r'\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)')
CLUSTER_DOMAIN = 'cluster.local'


class _Sources(object):
    """ConfigMaps and Secrets of the namespace, each read once per call."""

    def __init__(self, adapter):
        self.adapter = adapter
        self.read = {}

    def data(self, kind, name, optional):
        key = (kind, name)
        if key not in self.read:
            client = self.adapter.client
            func = client.core.read_namespaced_secret if kind == 'secret' else client.core.read_namespaced_config_map
            try:
                obj = client.call('reading %s %s' % (kind, name), func, name, self.adapter.namespace)
            except NotFoundError:
                if not optional:
                    raise
                obj = None
            values = {}
            if obj is not None and kind == 'secret':
                values = dict((k, base64.b64decode(v).decode('utf-8', 'replace')) for k, v in (obj.data or {}).items()
                              if v is not None)
            elif obj is not None:
                values = dict(obj.data or {})
            self.read[key] = values
        return self.read[key]


def _expand(value, env):
    """$(VAR) as the kubelet expands it: defined earlier -> its value, $$ -> $, else left as written."""
    def one(match):
        if match.group(0) == '$$':
            return '$'
        name = match.group(1)
        return env[name] if name in env else match.group(0)
    return _REFERENCE.sub(one, value)


def _field(pod, path):
    return {'metadata.name': pod.metadata.name, 'metadata.namespace': pod.metadata.namespace,
            'status.podIP': pod.status.pod_ip, 'status.hostIP': pod.status.host_ip,
            'spec.nodeName': pod.spec.node_name, 'spec.serviceAccountName': pod.spec.service_account_name}.get(path)


def _running_pod(adapter, service):
    ref = adapter._ref(service)  # pylint: disable=protected-access
    workload = adapter.workloads.read(ref)
    pods = [p for p in adapter.pods(selector_string(workload.spec.selector)) if not ended(p)
            and p.metadata.deletion_timestamp is None]
    pods.sort(key=lambda p: (p.status.phase != 'Running', p.metadata.name))
    return ref, workload, (pods[0] if pods else None)


def runtime_env(adapter, service):
    ref, workload, pod = _running_pod(adapter, service)
    if pod is None:
        return dict(replica=None, env={}, origins={})
    name = main_containers(pod, ref)[0]
    container = next(c for c in pod.spec.containers if c.name == name)
    sources = _Sources(adapter)
    env, origins = {}, {}
    for source in container.env_from or []:
        prefix = source.prefix or ''
        if source.secret_ref is not None:
            kind, ref_ = 'secret', source.secret_ref
        elif source.config_map_ref is not None:
            kind, ref_ = 'configmap', source.config_map_ref
        else:
            continue
        for key, value in sorted(sources.data(kind, ref_.name, bool(ref_.optional)).items()):
            env[prefix + key] = value
            origins[prefix + key] = 'envFrom %s %s' % (kind, ref_.name)
    for var in container.env or []:
        frm = var.value_from
        if frm is None:
            env[var.name] = _expand(var.value or '', env)
            origins[var.name] = 'env'
        elif frm.secret_key_ref is not None or frm.config_map_key_ref is not None:
            kind, sel = ('secret', frm.secret_key_ref) if frm.secret_key_ref is not None else \
                ('configmap', frm.config_map_key_ref)
            data = sources.data(kind, sel.name, bool(sel.optional))
            if sel.key in data:
                env[var.name] = data[sel.key]
                origins[var.name] = '%sKeyRef %s/%s' % ('secret' if kind == 'secret' else 'configMap', sel.name,
                                                        sel.key)
        elif frm.field_ref is not None:
            env[var.name] = _field(pod, frm.field_ref.field_path) or ''
            origins[var.name] = 'fieldRef %s' % frm.field_ref.field_path
    return dict(replica='%s/%s' % (pod.metadata.name, name), env=env, origins=origins, state=pod.status.phase)


def _target_port(target, template, port):
    """The container port a Service port's targetPort names (a number or a port name)."""
    if target is None:
        return None
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in template.spec.containers or []:
        for declared in container.ports or []:
            if declared.name == target:
                return declared.container_port
    return None


def service_addresses(adapter, service, port):
    ref, workload, dummy = _running_pod(adapter, service)
    labels = workload.spec.template.metadata.labels or {}
    namespace = adapter.namespace
    found = []
    services = adapter.client.call('listing services', adapter.client.core.list_namespaced_service, namespace).items
    for svc in sorted(services, key=lambda s: s.metadata.name):
        selector = svc.spec.selector or {}
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            continue
        headless = svc.spec.cluster_ip == 'None'
        for entry in svc.spec.ports or []:
            target = _target_port(entry.target_port, workload.spec.template, port) or entry.port
            if target != int(port):
                continue
            short = svc.metadata.name
            for host in (short, '%s.%s' % (short, namespace), '%s.%s.svc' % (short, namespace),
                         '%s.%s.svc.%s' % (short, namespace, CLUSTER_DOMAIN)):
                found.append((host, int(target if headless else entry.port)))
    for pod in adapter.pods(selector_string(workload.spec.selector)):
        if pod.status.pod_ip:
            found.append((pod.status.pod_ip, int(port)))
    return found
