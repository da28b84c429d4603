# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KubernetesAdapter.incident_state: every pod of the named services with
its restarts and the last end of its containers (``lastState.terminated``:
exit code and reason, ``OOMKilled`` included), and the namespace's recent
Warning events about them (kubectl get events --field-selector type=Warning)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import selector_string
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_pods import ended, replica_from_pod

# Warning events listed per run at most (the newest first).
MAX_EVENTS = 50


def _stamp(value):
    return value.isoformat() if hasattr(value, 'isoformat') else (str(value) if value else None)


def _last_end(statuses):
    """(exit_code, reason, finished) of the most telling terminated state:
    the current one, else the last one."""
    for cs in statuses:
        for state in (cs.state, cs.last_state):
            term = state.terminated if state is not None else None
            if term is not None:
                return term.exit_code, term.reason or 'Terminated', _stamp(term.finished_at)
    return None, None, None


def _pod_replica(pod, ref):
    rep = replica_from_pod(pod, ref)
    statuses = pod.status.container_statuses or []
    exit_code, last_reason, finished = _last_end(statuses)
    started = next((_stamp(cs.state.running.started_at) for cs in statuses
                    if cs.state is not None and cs.state.running is not None), None)
    return dict(name=rep['name'], state=rep['state'], ready=rep['ready'], restart_count=rep['restart_count'],
                exit_code=exit_code, oom_killed=last_reason == 'OOMKilled', last_reason=last_reason or rep['reason'],
                reason=rep['reason'], started=started, finished=finished, error=None, image=rep['image'],
                terminating=rep['terminating'], health=rep['health'])


def warning_events(client, namespace, names):
    """Warning events whose object's name starts with one of ``names``."""
    found = client.call('listing Warning events', client.core.list_namespaced_event, namespace,
                        field_selector='type=Warning').items
    events = []
    for ev in found:
        obj = ev.involved_object
        if not any((obj.name or '').startswith(name) for name in names):
            continue
        last = ev.last_timestamp or ev.event_time or ev.first_timestamp or ev.metadata.creation_timestamp
        events.append(dict(object='%s/%s' % ((obj.kind or '').lower(), obj.name), reason=ev.reason,
                           message=ev.message, count=ev.count or 1, last=_stamp(last)))
    events.sort(key=lambda e: e['last'] or '', reverse=True)
    return events[:MAX_EVENTS]


def incident_state(adapter, names=None):
    services, workloads = [], []
    for service in names or adapter.service_names():
        ref = adapter._ref(service)  # pylint: disable=protected-access
        workload = adapter.workloads.read(ref)
        workloads.append(workload.metadata.name)
        pods = [p for p in adapter.pods(selector_string(workload.spec.selector)) if not ended(p)]
        replicas = sorted((_pod_replica(p, ref) for p in pods), key=lambda r: r['name'])
        judged = judge_service(service, workload.metadata.name, workload.spec.replicas, replicas)
        services.append(dict(name=service, ok=judged['ok'], problems=judged['problems'], replicas=[
            dict((k, r[k]) for k in ('name', 'state', 'restart_count', 'exit_code', 'oom_killed', 'last_reason',
                                     'started', 'finished', 'error', 'image')) for r in replicas]))
    return dict(services=services, events=warning_events(adapter.client, adapter.namespace, workloads))
