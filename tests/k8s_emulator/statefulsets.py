"""StatefulSet controller (apps/v1), as kube-controller-manager's
``pkg/controller/statefulset`` does it, mixed into ``core.Emulator``:

* pods ``<name>-0`` .. ``<name>-(N-1)`` with the labels
  ``controller-revision-hash``, ``statefulset.kubernetes.io/pod-name`` and
  ``apps.kubernetes.io/pod-index``, hostname = pod name, subdomain =
  ``serviceName``; a deleted or Failed pod is recreated under the same name;
* ``podManagementPolicy`` OrderedReady (create in ordinal order, each after
  its predecessors are Running and Ready; scale down from the highest
  ordinal, one at a time) or Parallel (all at once);
* ControllerRevisions ``<name>-<hash>`` (``revision`` numbers, an equal
  template reuses its revision with the next number, as a rollback does),
  ``status.currentRevision`` / ``updateRevision``;
* ``updateStrategy`` RollingUpdate (highest ordinal first, one pod at a time,
  waiting for it to be Running and Ready; ordinals below ``partition`` keep
  the current revision) or OnDelete (only pods someone deletes come back at
  the update revision);
* status ``observedGeneration``, ``replicas``, ``readyReplicas``,
  ``availableReplicas``, ``currentReplicas``, ``updatedReplicas``,
  ``currentRevision``, ``updateRevision``, ``collisionCount``; the revision
  becomes current when every pod is updated and Ready (``completeRollingUpdate``).

Revisions beyond ``revisionHistoryLimit`` that no pod uses are deleted, oldest first.

Not emulated: volumeClaimTemplates (no PersistentVolumeClaims are made),
``maxUnavailable`` above 1, ``ordinals.start``, ``minReadySeconds`` in the ordering.
"""

import copy

REVISION_LABEL = 'controller-revision-hash'
POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name'
POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'
HASH_LABEL = 'controller.kubernetes.io/hash'


def sts_defaults(spec):
    spec.setdefault('replicas', 1)
    spec.setdefault('podManagementPolicy', 'OrderedReady')
    spec.setdefault('revisionHistoryLimit', 10)
    strategy = spec.setdefault('updateStrategy', {})
    strategy.setdefault('type', 'RollingUpdate')
    if strategy['type'] == 'RollingUpdate':
        strategy.setdefault('rollingUpdate', {}).setdefault('partition', 0)
    spec.setdefault('persistentVolumeClaimRetentionPolicy', {'whenDeleted': 'Retain', 'whenScaled': 'Retain'})
    return spec


def ordinal_of(sts, pod):
    prefix = sts['metadata']['name'] + '-'
    name = pod['metadata']['name']
    if not name.startswith(prefix) or not name[len(prefix):].isdigit():
        return None
    return int(name[len(prefix):])


class StatefulSetController(object):
    """Mixin for ``core.Emulator`` (uses its store, pods and events; caller holds the lock)."""

    def _sts_revisions(self, sts, now):
        """(current revision name, update revision name), creating or renumbering the update revision."""
        from .core import RESOURCES, canonical, template_hash
        ns, name = sts['metadata']['namespace'], sts['metadata']['name']
        revisions = sorted(self._owned('controllerrevisions', sts), key=lambda r: r.get('revision', 0))
        data = {'spec': {'template': dict(copy.deepcopy(sts['spec']['template']), **{'$patch': 'replace'})}}
        latest = revisions[-1].get('revision', 0) if revisions else 0
        equal = [r for r in revisions if canonical(r.get('data')) == canonical(data)]
        if equal:
            update = equal[-1]
            if update is not revisions[-1]:
                new = copy.deepcopy(update)
                new['revision'] = latest + 1
                update = self._update('controllerrevisions', new, update)
        else:
            collision = (sts.get('status') or {}).get('collisionCount', 0)
            h = template_hash(data, collision)
            while ('controllerrevisions', ns, '%s-%s' % (name, h)) in self._objs:
                collision += 1
                h = template_hash(data, collision)
            labels = dict((sts['spec']['template'].get('metadata') or {}).get('labels') or {})
            labels[HASH_LABEL] = h
            meta = {'name': '%s-%s' % (name, h), 'namespace': ns, 'labels': labels, 'ownerReferences': [
                {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'name': name, 'uid': sts['metadata']['uid'],
                 'controller': True, 'blockOwnerDeletion': True}]}
            update = self._store('controllerrevisions', {
                'metadata': self._new_meta(RESOURCES['controllerrevisions'], ns, meta, now),
                'data': data, 'revision': latest + 1}, 'ADDED')
        names = {r['metadata']['name'] for r in self._owned('controllerrevisions', sts)}
        current = (sts.get('status') or {}).get('currentRevision')
        if current not in names:
            current = update['metadata']['name']
        return current, update['metadata']['name']

    def _sts_pod(self, sts, ordinal, revision, now):
        from .core import RESOURCES
        ns, name = sts['metadata']['namespace'], sts['metadata']['name']
        revision_obj = self._objs.get(('controllerrevisions', ns, revision))
        template = copy.deepcopy(revision_obj['data']['spec']['template'] if revision_obj
                                 else sts['spec']['template'])
        template.pop('$patch', None)
        tmeta = template.get('metadata') or {}
        pod_name = '%s-%d' % (name, ordinal)
        labels = dict(tmeta.get('labels') or {})
        labels.update({REVISION_LABEL: revision, POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: str(ordinal)})
        meta = {'name': pod_name, 'namespace': ns, 'labels': labels, 'ownerReferences': [
            {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'name': name, 'uid': sts['metadata']['uid'],
             'controller': True, 'blockOwnerDeletion': True}]}
        if tmeta.get('annotations'):
            meta['annotations'] = dict(tmeta['annotations'])
        spec = template.get('spec') or {}
        spec['hostname'] = pod_name
        if sts['spec'].get('serviceName'):
            spec['subdomain'] = sts['spec']['serviceName']
        pod = {'metadata': self._new_meta(RESOURCES['pods'], ns, meta, now), 'spec': spec}
        self._apply_defaults('pods', pod)
        self._register_pod(pod, now)
        self._store('pods', pod, 'ADDED')
        self._scheduled_event(pod)
        self._event('statefulsets', sts, 'SuccessfulCreate', 'create Pod %s in StatefulSet %s successful'
                    % (pod_name, name), component='statefulset-controller')
        return pod

    def _sts_delete(self, sts, pod):
        self._delete_pod(pod, None)
        self._event('statefulsets', sts, 'SuccessfulDelete', 'delete Pod %s in StatefulSet %s successful'
                    % (pod['metadata']['name'], sts['metadata']['name']), component='statefulset-controller')

    @staticmethod
    def _healthy(pod):
        return ((pod.get('status') or {}).get('phase') == 'Running' and not pod['metadata'].get('deletionTimestamp')
                and any(c.get('type') == 'Ready' and c.get('status') == 'True'
                        for c in (pod.get('status') or {}).get('conditions') or []))

    def _truncate_history(self, sts, live):
        """truncateHistory: drop the oldest revisions no pod uses beyond revisionHistoryLimit."""
        live = set(live) | {(p['metadata'].get('labels') or {}).get(REVISION_LABEL) for p in self._owned('pods', sts)}
        idle = sorted((r for r in self._owned('controllerrevisions', sts) if r['metadata']['name'] not in live),
                      key=lambda r: r.get('revision', 0))
        for revision in idle[:max(0, len(idle) - sts['spec'].get('revisionHistoryLimit', 10))]:
            self._remove('controllerrevisions', revision)

    def _sync_statefulset(self, sts, now):
        spec = sts['spec']
        current, update = self._sts_revisions(sts, now)
        self._truncate_history(sts, (current, update))
        status = sts.get('status') or {}
        replicas = spec.get('replicas', 1)
        monotonic = spec.get('podManagementPolicy', 'OrderedReady') != 'Parallel'
        strategy = spec.get('updateStrategy') or {}
        partition = (strategy.get('rollingUpdate') or {}).get('partition')
        pods = {}
        condemned = []
        for pod in self._owned('pods', sts):
            ordinal = ordinal_of(sts, pod)
            if ordinal is None:
                continue
            (pods.__setitem__(ordinal, pod) if ordinal < replicas else condemned.append((ordinal, pod)))
        # create missing pods, replace failed ones (in ordinal order; OrderedReady waits for each)
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is not None and (pod.get('status') or {}).get('phase') in ('Failed', 'Succeeded') \
                    and not pod['metadata'].get('deletionTimestamp'):
                self._sts_delete(sts, pod)
                pod = pods[ordinal] = self._objs.get(('pods', pod['metadata']['namespace'],
                                                      pod['metadata']['name']))
                if monotonic:
                    return
            if pod is None:
                use_current = (strategy.get('type') == 'RollingUpdate' and (
                    (partition is None and ordinal < status.get('currentReplicas', 0))
                    or (partition is not None and ordinal < partition)))
                pods[ordinal] = self._sts_pod(sts, ordinal, current if use_current else update, now)
                if monotonic:
                    return
                continue
            if monotonic and not self._healthy(pod):
                return
        # scale down: highest ordinal first
        for ordinal, pod in sorted(condemned, key=lambda x: -x[0]):
            if pod['metadata'].get('deletionTimestamp'):
                if monotonic:
                    return
                continue
            if monotonic and not all(self._healthy(p) for p in pods.values()):
                return
            self._sts_delete(sts, pod)
            if monotonic:
                return
        if strategy.get('type') != 'RollingUpdate':
            return
        # rolling update: from the highest ordinal down to the partition, one pod at a time
        for ordinal in range(replicas - 1, (partition or 0) - 1, -1):
            pod = pods.get(ordinal)
            if pod is None or pod['metadata'].get('deletionTimestamp'):
                return
            if (pod['metadata'].get('labels') or {}).get(REVISION_LABEL) != update:
                self._sts_delete(sts, pod)
                return
            if not self._healthy(pod):
                return

    def _sts_status(self, sts, now):
        from .core import canonical
        current, update = self._sts_revisions(sts, now)
        min_ready = sts['spec'].get('minReadySeconds', 0) or 0
        counts = dict(replicas=0, readyReplicas=0, availableReplicas=0, currentReplicas=0, updatedReplicas=0)
        for pod in self._owned('pods', sts):
            counts['replicas'] += 1
            if self._healthy(pod):
                counts['readyReplicas'] += 1
                sim = self._sims.get(pod['metadata']['uid'])
                if sim is not None and sim.ready_since is not None and now - sim.ready_since >= min_ready:
                    counts['availableReplicas'] += 1
            if not pod['metadata'].get('deletionTimestamp'):
                revision = (pod['metadata'].get('labels') or {}).get(REVISION_LABEL)
                counts['currentReplicas'] += revision == current
                counts['updatedReplicas'] += revision == update
        old = sts.get('status') or {}
        strategy = sts['spec'].get('updateStrategy') or {}
        if (strategy.get('type') == 'RollingUpdate' and counts['updatedReplicas'] == counts['replicas']
                and counts['readyReplicas'] == counts['replicas']):
            counts['currentReplicas'], current = counts['updatedReplicas'], update
        status = {'observedGeneration': sts['metadata'].get('generation', 1), 'currentRevision': current,
                  'updateRevision': update, 'collisionCount': old.get('collisionCount', 0)}
        status.update(counts)
        status = {k: v for k, v in status.items() if v or k in ('replicas', 'availableReplicas', 'collisionCount')}
        if min_ready and counts['readyReplicas'] > counts['availableReplicas']:
            self._wake.set()
        if canonical(status) != canonical(old):
            new = copy.deepcopy(sts)
            new['status'] = status
            self._update('statefulsets', new, sts)

    def statefulset_rollout_complete(self, name, namespace=None):
        """kubectl rollout status's rule for a StatefulSet, on the stored object."""
        with self._lock:
            sts = self._objs.get(('statefulsets', namespace or self.namespace, name))
            if sts is None:
                return False
            st, spec = sts.get('status') or {}, sts['spec']
            if not st.get('observedGeneration') or sts['metadata'].get('generation', 1) > st['observedGeneration']:
                return False
            if st.get('readyReplicas', 0) < spec.get('replicas', 1):
                return False
            ru = (spec.get('updateStrategy') or {}).get('rollingUpdate')
            if ru is not None and ru.get('partition') is not None:
                return st.get('updatedReplicas', 0) >= spec.get('replicas', 1) - ru['partition']
            return st.get('updateRevision') == st.get('currentRevision')
