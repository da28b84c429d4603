# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes adapter: the runbook's ``kubectl`` commands behind the
platform interface, through the kubernetes Python client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import re

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import (
    DEFAULT_DEPLOYMENTS, Adapter, judge_service, replica)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import (
    K8sClient, selector_string)


def replica_from_pod(pod):
    status = pod.status
    conditions = {c.type: c.status for c in (status.conditions or [])}
    ready = conditions.get('Ready') == 'True'
    statuses = status.container_statuses or []
    restarts = sum(cs.restart_count or 0 for cs in statuses)
    image = statuses[0].image if statuses else (pod.spec.containers[0].image if pod.spec.containers else None)
    reason, exit_code = None, None
    for cs in statuses:
        if cs.state and cs.state.waiting:
            reason = cs.state.waiting.reason
        elif cs.state and cs.state.terminated:
            reason = cs.state.terminated.reason or 'Terminated'
            exit_code = cs.state.terminated.exit_code
        if reason:
            break
    if not reason and not ready:
        reason = 'not Ready' if status.phase == 'Running' else status.phase
    return replica(name=pod.metadata.name, state=status.phase, ready=ready,
                   health='ready' if ready else 'not ready', restart_count=restarts,
                   image=image, exit_code=exit_code, reason=reason,
                   terminating=pod.metadata.deletion_timestamp is not None)


class KubernetesAdapter(Adapter):

    platform = 'k8s'

    def __init__(self, module, params):
        self.module = module
        self.deployments = dict(DEFAULT_DEPLOYMENTS)
        self.deployments.update(params.get('deployments') or {})
        self.secret_name = params['secret_name']
        self.client = K8sClient(params.get('kubeconfig'), params.get('context'), params['namespace'])
        self.namespace = params['namespace']

    def describe(self):
        return 'namespace %s at %s' % (self.namespace, self.client.host)

    def deployment_name(self, service):
        if service in self.deployments:
            return self.deployments[service]
        if service in self.deployments.values():
            return service
        raise NotFoundError('unknown service %s; known services are %s (set quickbite_k8s_deployments '
                            'to map more)' % (service, ', '.join(sorted(self.deployments))))

    def read_deployment(self, service):
        name = self.deployment_name(service)
        return self.client.call('reading deployment %s' % name,
                                self.client.apps.read_namespaced_deployment, name, self.namespace)

    def pods(self, selector):
        return self.client.call('listing pods %s' % selector, self.client.core.list_namespaced_pod,
                                self.namespace, label_selector=selector).items

    def services(self, names=None):
        result = []
        for service in names or sorted(self.deployments):
            deployment = self.read_deployment(service)
            pods = self.pods(selector_string(deployment.spec.selector))
            reps = sorted((replica_from_pod(p) for p in pods), key=lambda r: r['name'])
            result.append(judge_service(service, deployment.metadata.name,
                                        deployment.spec.replicas, reps))
        return result

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        if selector is None:
            selector = selector_string(self.read_deployment(service).spec.selector)
        kwargs = {}
        if tail is not None:
            kwargs['tail_lines'] = int(tail)
        if since:
            kwargs['since_seconds'] = since if isinstance(since, int) else parse_duration(since)
        entries = []
        for pod in sorted(self.pods(selector), key=lambda p: p.metadata.name):
            text = self.client.call('reading logs of pod %s' % pod.metadata.name,
                                    self.client.core.read_namespaced_pod_log, pod.metadata.name,
                                    self.namespace, previous=previous, **kwargs)
            entries.append(dict(source=pod.metadata.name, lines=(text or '').splitlines()))
        return entries

    def get_config(self, key):
        secret = self.client.call('reading secret %s' % self.secret_name,
                                  self.client.core.read_namespaced_secret, self.secret_name, self.namespace)
        value = (secret.data or {}).get(key)
        return base64.b64decode(value).decode('utf-8') if value is not None else None


def parse_duration(text):
    """kubectl/compose style durations (90s, 5m, 1h, 1h30m) to seconds."""
    total, matched = 0, False
    for amount, unit in re.findall(r'(\d+)([smhd])', text):
        total += int(amount) * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[unit]
        matched = True
    if not matched:
        raise ValueError('cannot read duration %r; use forms such as 90s, 10m, 1h' % text)
    return total
