# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods as kubectl reads them: which pods have ended (Failed, Succeeded,
Evicted: not live, not counted), which container is a service's main one
when a pod has sidecars, and a pod's replica state judged on that container."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import replica

ENDED_PHASES = ('Failed', 'Succeeded')
DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container'
# Container names of common sidecars (meshes, log shippers, proxies): never a service's main container.
SIDECARS = frozenset((
    'istio-proxy', 'istio-init', 'linkerd-proxy', 'envoy', 'envoy-sidecar', 'log-shipper', 'fluent-bit',
    'fluentbit', 'fluentd', 'filebeat', 'promtail', 'vector', 'vault-agent', 'cloud-sql-proxy', 'cloudsql-proxy',
    'oauth2-proxy', 'datadog-agent', 'otel-collector', 'opentelemetry-collector', 'jaeger-agent', 'metrics-exporter',
    'postgres-exporter', 'redis-exporter'))


def ended(pod):
    """kubectl's reading: a pod in phase Failed or Succeeded (an Evicted pod is
    Failed) has ended; a controller neither counts nor keeps it."""
    return (pod.status.phase if pod.status else None) in ENDED_PHASES


def ended_entry(pod):
    status = pod.status
    return dict(name=pod.metadata.name, phase=status.phase, reason=status.reason or status.phase,
                message=status.message)


def main_containers(pod, ref):
    """``pod`` (or a pod template): the container names logs and evidence come from: the mapped one
    (``container``; ``'*'``: all), else kubectl's default-container
    annotation, else a container named for the service or its workload,
    else the first that is not a known sidecar (else the first)."""
    names = [c.name for c in pod.spec.containers or []]
    wanted = ref.container if ref is not None else None
    if wanted == '*':
        return names
    if wanted:
        if wanted not in names:
            raise ConfigError('pod %s of %s has no container %s (it has %s); fix quickbite_k8s_deployments.%s.container'
                              % (getattr(pod.metadata, 'name', None) or 'template', ref.label(), wanted,
                                 ', '.join(names), ref.service))
        return [wanted]
    if len(names) <= 1:
        return names
    annotated = ((pod.metadata.annotations if pod.metadata else None) or {}).get(DEFAULT_CONTAINER)
    if annotated in names:
        return [annotated]
    for candidate in ((ref.service, ref.name) if ref is not None else ()):
        if candidate in names:
            return [candidate]
    return [next((n for n in names if n not in SIDECARS), names[0])]


def container_status(pod, name):
    return next((cs for cs in pod.status.container_statuses or [] if cs.name == name), None)


def replica_from_pod(pod, ref=None):
    """The replica state of ``pod``: ready as the pod's Ready condition (every
    container), image, restarts and reason of its main container first."""
    status = pod.status
    conditions = {c.type: c.status for c in (status.conditions or [])}
    ready = conditions.get('Ready') == 'True'
    main = main_containers(pod, ref) if ref is not None and (ref.container or '') != '*' else []
    statuses = status.container_statuses or []
    ordered = sorted(statuses, key=lambda cs: cs.name not in main)
    restarts = sum(cs.restart_count or 0 for cs in statuses)
    spec_image = next((c.image for c in pod.spec.containers if c.name in main), None) if main else None
    image = ordered[0].image if ordered else (spec_image or (pod.spec.containers[0].image if pod.spec.containers
                                                             else None))
    reason, exit_code = None, None
    for cs in ordered:
        if cs.state and cs.state.waiting:
            reason = cs.state.waiting.reason
        elif cs.state and cs.state.terminated:
            reason = cs.state.terminated.reason or 'Terminated'
            exit_code = cs.state.terminated.exit_code
        if reason:
            break
    if ended(pod):
        reason = status.reason or status.phase
    elif not reason and not ready:
        reason = 'not Ready' if status.phase == 'Running' else status.phase
    return replica(name=pod.metadata.name, state=status.phase, ready=ready and not ended(pod),
                   health='ready' if ready else 'not ready', restart_count=restarts,
                   image=image, exit_code=exit_code, reason=reason,
                   terminating=pod.metadata.deletion_timestamp is not None)


def log_plan(pod, ref, previous):
    """[(container, note)] for one pod's logs: a note instead of a request only
    where kubectl would certainly get an error, so no API error is ever
    swallowed: a container that never started (no log yet) and, with
    ``previous``, one that never restarted."""
    plan = []
    for name in main_containers(pod, ref):
        cs = container_status(pod, name)
        if previous:
            if cs is None or not (cs.restart_count or 0) and not (cs.last_state and cs.last_state.terminated):
                plan.append((name, 'no previous container (never restarted)'))
                continue
        elif cs is None or (cs.state and cs.state.waiting and not (cs.restart_count or 0)
                            and not (cs.last_state and cs.last_state.terminated)):
            why = cs.state.waiting.reason if cs is not None and cs.state.waiting.reason else 'not started'
            plan.append((name, 'container %s is waiting to start (%s): no log yet' % (name, why)))
            continue
        plan.append((name, None))
    return plan
