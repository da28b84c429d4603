"""Terminal pod phases, as the kubelet reports them, mixed into ``core.Emulator``.

``set_pod_phase(target, 'Failed' | 'Succeeded' | 'Evicted')`` ends the pods of
``target`` (pod name, workload name or ``app`` label):

* Succeeded: every container ``terminated`` (exit 0, ``Completed``); Ready and
  ContainersReady False with reason ``PodCompleted``;
* Failed: containers ``terminated`` (exit 1, ``Error``), reason ``PodFailed``;
* Evicted: phase Failed, ``status.reason: Evicted`` and the kubelet's message
  (``The node was low on resource: memory. ...``), a ``DisruptionTarget``
  condition (``TerminationByKubelet``), containers terminated with exit 137
  ``ContainerStatusUnknown``, and an ``Evicted`` Warning event.

The pods stay listed, as real clusters keep them (until someone deletes them
or the pod garbage collector's threshold of 12500 terminated pods): the
ReplicaSet controller no longer counts them and creates replacements, the
StatefulSet controller deletes them and recreates the ordinal, exec into them
is refused (``cannot exec into a container in a completed pod; current phase
is Failed``), their logs stay readable.
"""

import copy

TERMINAL = ('Failed', 'Succeeded')
EVICTION_MESSAGE = ('The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. '
                    'Container %s was using 612Mi, request is 512Mi, has larger consumption of memory. ')


def terminal(pod):
    return (pod.get('status') or {}).get('phase') in TERMINAL


class PodPhases(object):
    """Mixin for ``core.Emulator``."""

    def set_pod_phase(self, target, phase, namespace=None):
        """End the pods of ``target``: 'Succeeded', 'Failed' or 'Evicted' (phase Failed, reason Evicted)."""
        if phase not in ('Succeeded', 'Failed', 'Evicted'):
            raise ValueError('phase must be Succeeded, Failed or Evicted, not %r' % phase)
        with self._lock:
            now = self.now()
            for pod, sim in self._pods_for(target, namespace):
                if terminal(pod) or sim is None:
                    continue
                sim.terminal = (phase, now)
                self._end_pod(pod, sim, now)
                if phase == 'Evicted':
                    self._event('pods', pod, 'Evicted', 'The node was low on resource: memory.', kind='Warning')
            self._wake.set()

    def _end_pod(self, pod, sim, now):
        """Write the terminal status once (the kubelet leaves it as it is afterwards)."""
        from .core import rfc3339
        phase, ended = sim.terminal
        evicted = phase == 'Evicted'
        code, why = {'Succeeded': (0, 'Completed'), 'Failed': (1, 'Error'),
                     'Evicted': (137, 'ContainerStatusUnknown')}[phase]
        new = copy.deepcopy(pod)
        status = new.setdefault('status', {})
        status['phase'] = 'Succeeded' if phase == 'Succeeded' else 'Failed'
        started = rfc3339(sim.running_since or sim.created)
        for cs in status.get('containerStatuses') or []:
            term = {'exitCode': code, 'reason': why, 'startedAt': started, 'finishedAt': rfc3339(ended)}
            if evicted:
                term['message'] = 'The container could not be located when the pod was terminated'
            if cs.get('containerID'):
                term['containerID'] = cs['containerID']
            cs.update(ready=False, started=False, state={'terminated': term})
        reason = 'PodCompleted' if phase == 'Succeeded' else 'PodFailed'
        conds = [c for c in status.get('conditions') or [] if c['type'] != 'DisruptionTarget']
        for c in conds:
            if c['type'] in ('Ready', 'ContainersReady'):
                c.update(status='False', reason=reason, lastTransitionTime=rfc3339(ended))
                c.pop('message', None)
            if c['type'] == 'PodReadyToStartContainers':
                c.update(status='False', lastTransitionTime=rfc3339(ended))
        if evicted:
            container = (pod['spec'].get('containers') or [{}])[0].get('name', '')
            status['reason'] = 'Evicted'
            status['message'] = EVICTION_MESSAGE % container
            conds.insert(0, {'type': 'DisruptionTarget', 'status': 'True', 'lastProbeTime': None,
                             'lastTransitionTime': rfc3339(ended), 'reason': 'TerminationByKubelet',
                             'message': 'The node was low on resource: memory. '})
        status['conditions'] = conds
        self._update('pods', new, pod)
