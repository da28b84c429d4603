# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs a service on Kubernetes: a Deployment or a StatefulSet (or
nothing, for a service declared external), read, patched and scaled through
one small interface, and judged by kubectl's rollout rules for its kind.

A service's entry in ``deployments`` (quickbite_k8s_deployments) is one of:
``name`` (a Deployment, else a StatefulSet of that name), ``kind/name``
(``deployment/x``, ``statefulset/x``, as kubectl writes them), or a mapping
``{name, kind, container, external}``: ``container`` is the service's main
container (``'*'``: all of them) and ``external: true`` says the service runs
outside the cluster (checked only by its own probe, never on the platform)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError, PlatformError

KINDS = {'deployment': 'Deployment', 'deployments': 'Deployment', 'deploy': 'Deployment',
         'statefulset': 'StatefulSet', 'statefulsets': 'StatefulSet', 'sts': 'StatefulSet'}
ALL_CONTAINERS = '*'
VARIABLE = 'quickbite_k8s_deployments'


class WorkloadRef(object):
    """One service's workload as the inventory describes it; ``kind`` is None
    until found (a Deployment of that name, else a StatefulSet)."""

    def __init__(self, service, entry):
        self.service = service
        self.kind, self.container, self.external = None, None, False
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - set(('name', 'kind', 'container', 'external')))
            if unknown:
                raise ConfigError('%s.%s has unknown key(s) %s; use name, kind, container, external'
                                  % (VARIABLE, service, ', '.join(unknown)))
            self.external = bool(entry.get('external', False))
            self.container = entry.get('container') or None
            kind = entry.get('kind')
            name = entry.get('name') or service
            if kind:
                self.kind = _kind(service, kind)
        elif isinstance(entry, str) and entry:
            kind, sep, name = entry.partition('/')
            if sep:
                self.kind = _kind(service, kind)
            else:
                name = entry
        else:
            raise ConfigError('%s.%s is %r; give a workload name (quickbite-backend, statefulset/postgres) or a '
                              'mapping {name, kind, container, external}' % (VARIABLE, service, entry))
        self.name = name

    def label(self):
        return '%s %s' % ((self.kind or 'workload').lower(), self.name)


def _kind(service, kind):
    found = KINDS.get(str(kind).lower())
    if found is None:
        raise ConfigError('%s.%s: kind %r is not a Deployment or a StatefulSet; use deployment or statefulset'
                          % (VARIABLE, service, kind))
    return found


def refs(mapping):
    """{service: WorkloadRef} from the merged ``deployments`` mapping."""
    return dict((service, WorkloadRef(service, entry)) for service, entry in mapping.items())


class Workloads(object):
    """Deployment and StatefulSet behind the same calls."""

    def __init__(self, client, namespace):
        self.client = client
        self.namespace = namespace

    def _api(self, kind, verb):
        """The client operation (_k8s_rest) for ``verb`` (read, patch, patch_scale) on ``kind``."""
        suffix = 'deployment' if kind == 'Deployment' else 'stateful_set'
        if verb == 'patch_scale':
            return getattr(self.client.apps, 'patch_namespaced_%s_scale' % suffix)
        return getattr(self.client.apps, '%s_namespaced_%s' % (verb, suffix))

    def read(self, ref):
        """The workload object; finds the kind of a bare name once (Deployment first)."""
        if ref.external:
            raise ConfigError('%s is declared external in %s: it does not run in namespace %s, so it has no pods '
                              'to read, restart or scale here; its own probe (healthcheck_checks) checks it'
                              % (ref.service, VARIABLE, self.namespace))
        if ref.kind is not None:
            return self.client.call('reading %s' % ref.label(), self._api(ref.kind, 'read'), ref.name,
                                    self.namespace)
        try:
            obj = self.client.call('reading deployment %s' % ref.name, self._api('Deployment', 'read'), ref.name,
                                   self.namespace)
            ref.kind = 'Deployment'
        except NotFoundError:
            try:
                obj = self.client.call('reading statefulset %s' % ref.name, self._api('StatefulSet', 'read'),
                                       ref.name, self.namespace)
            except NotFoundError:
                raise NotFoundError('no Deployment or StatefulSet %s in namespace %s for service %s; set %s.%s to '
                                    'its workload (statefulset/NAME), or external: true when it runs outside '
                                    'the cluster' % (ref.name, self.namespace, ref.service, VARIABLE, ref.service))
            ref.kind = 'StatefulSet'
        return obj

    def patch(self, ref, body, what):
        return self.client.call('%s %s' % (what, ref.label()), self._api(ref.kind, 'patch'), ref.name,
                                self.namespace, body)

    def scale(self, ref, replicas):
        return self.client.call('scaling %s' % ref.label(), self._api(ref.kind, 'patch_scale'), ref.name,
                                self.namespace,
                                {'spec': {'replicas': int(replicas)}})

    def revision_of(self, ref, obj):
        """The rollout revision number now: the Deployment's annotation, or
        the StatefulSet's update ControllerRevision's number."""
        if ref.kind == 'Deployment':
            return int((obj.metadata.annotations or {}).get(REVISION, 0))
        name = obj.status.update_revision if obj.status else None
        if not name:
            return 0
        rev = self.client.call('reading controllerrevision %s' % name,
                               self.client.apps.read_namespaced_controller_revision, name, self.namespace)
        return int(rev.revision or 0)

    def controller_revisions(self, obj, selector):
        revs = self.client.call('listing controllerrevisions of statefulset %s' % obj.metadata.name,
                                self.client.apps.list_namespaced_controller_revision, self.namespace,
                                label_selector=selector).items
        owned = [r for r in revs if any(o.uid == obj.metadata.uid for o in r.metadata.owner_references or [])]
        return sorted(owned, key=lambda r: int(r.revision or 0))


def refuse_paused(obj, what):
    """kubectl refuses a restart or an undo of a paused Deployment (it would
    wait for a rollout that cannot start): so do we, before changing anything."""
    if getattr(obj.spec, 'paused', None):
        raise ConfigError('deployment %s is paused (kubectl rollout pause): a %s would wait for a rollout that '
                          'cannot start; resume it first (kubectl rollout resume deployment/%s) and run again. '
                          'Nothing was changed.' % (obj.metadata.name, what, obj.metadata.name))


def refuse_on_delete(obj, what):
    strategy = obj.spec.update_strategy
    if strategy is not None and strategy.type == 'OnDelete':
        raise ConfigError('statefulset %s uses updateStrategy OnDelete: a %s would replace no pod; delete its pods '
                          'one at a time (restart_pod) or switch it to RollingUpdate. Nothing was changed.'
                          % (obj.metadata.name, what))


def rollout_status(kind, obj):
    """kubectl rollout status's rules for the kind: (done, message)."""
    if kind == 'StatefulSet':
        return statefulset_status(obj)
    return deployment_status(obj)


def deployment_status(deployment):
    """kubectl rollout status's rules: (done, message); raises on
    ProgressDeadlineExceeded as kubectl does."""
    status = deployment.status
    name = deployment.metadata.name
    if (deployment.metadata.generation or 0) > (status.observed_generation or 0):
        return False, 'waiting for deployment %s spec update to be observed' % name
    for cond in status.conditions or []:
        if cond.type == 'Progressing' and cond.reason == 'ProgressDeadlineExceeded':
            raise PlatformError('deployment %s exceeded its progress deadline: %s' % (name, cond.message))
    wanted = deployment.spec.replicas
    updated = status.updated_replicas or 0
    if wanted is not None and updated < wanted:
        return False, '%d out of %d new replicas have been updated' % (updated, wanted)
    if (status.replicas or 0) > updated:
        return False, '%d old replicas are pending termination' % ((status.replicas or 0) - updated)
    if (status.available_replicas or 0) < updated:
        return False, '%d of %d updated replicas are available' % (status.available_replicas or 0, updated)
    return True, 'deployment %s successfully rolled out' % name


def statefulset_status(sts):
    """kubectl's StatefulSet status viewer: observedGeneration, readyReplicas,
    then updatedReplicas against replicas - partition (RollingUpdate with
    its parameters), else currentRevision == updateRevision."""
    status = sts.status
    name = sts.metadata.name
    strategy = sts.spec.update_strategy
    if strategy is not None and strategy.type not in (None, 'RollingUpdate'):
        raise PlatformError('statefulset %s: rollout status is only available for the RollingUpdate strategy '
                            'type (it uses %s)' % (name, strategy.type))
    if status is None or not status.observed_generation or (sts.metadata.generation or 0) > status.observed_generation:
        return False, 'waiting for statefulset %s spec update to be observed' % name
    wanted = sts.spec.replicas
    if wanted is not None and (status.ready_replicas or 0) < wanted:
        return False, 'waiting for %d pods to be ready' % (wanted - (status.ready_replicas or 0))
    rolling = strategy.rolling_update if strategy is not None else None
    if rolling is not None:
        if wanted is not None and rolling.partition is not None:
            if (status.updated_replicas or 0) < wanted - rolling.partition:
                return False, ('waiting for partitioned roll out to finish: %d out of %d new pods have been updated'
                               % (status.updated_replicas or 0, wanted - rolling.partition))
        return True, 'partitioned roll out complete: %d new pods have been updated' % (status.updated_replicas or 0)
    if status.update_revision != status.current_revision:
        return False, ('waiting for statefulset rolling update to complete %d pods at revision %s'
                       % (status.updated_replicas or 0, status.update_revision))
    return True, 'statefulset rolling update complete %d pods at revision %s' % (
        status.current_replicas or 0, status.current_revision)


REVISION = 'deployment.kubernetes.io/revision'
