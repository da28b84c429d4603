# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes adapter: the runbook's ``kubectl`` commands behind the
platform interface, through the kubernetes Python client."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import re
import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError, PlatformError
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
    # Capabilities (base.Adapter says what each means).
    rolling_restart = True
    restarts_whole_stack = False
    has_rollout_history = True
    pins_images = False
    has_previous_log = True
    has_label_selectors = True
    target_kind = 'namespace'

    def __init__(self, module, params):
        self.module = module
        self.deployments = dict(DEFAULT_DEPLOYMENTS)
        self.deployments.update(params.get('deployments') or {})
        self.secret_name = params['secret_name']
        self.client = K8sClient(params.get('kubeconfig'), params.get('context'), params['namespace'])
        self.namespace = params['namespace']

    def describe(self):
        return 'namespace %s at %s' % (self.namespace, self.client.host)

    def target_name(self):
        return self.namespace

    def stack_restart_effect(self):
        return 'restarts every Deployment of namespace %s' % self.namespace

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

    def services(self, names=None, detail=True):
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
            if previous and not any((cs.restart_count or 0) > 0 for cs in pod.status.container_statuses or []):
                # kubectl fails the whole command here; one pod without a crash must not hide the others.
                entries.append(dict(source=pod.metadata.name, lines=[], note='no previous container (never restarted)'))
                continue
            try:
                text = self.client.call('reading logs of pod %s' % pod.metadata.name,
                                        self.client.core.read_namespaced_pod_log, pod.metadata.name,
                                        self.namespace, previous=previous, **kwargs)
            except PlatformError as exc:
                if ': 400 ' not in exc.msg:
                    raise
                # A container still starting has no log yet: say so, keep the others.
                entries.append(dict(source=pod.metadata.name, lines=[], note=exc.msg))
                continue
            entries.append(dict(source=pod.metadata.name, lines=(text or '').splitlines()))
        return entries

    # ---------------------------------------------------------------- changes

    def service_names(self):
        return sorted(self.deployments)

    def workload(self, service):
        dep = self.read_deployment(service)
        images = [c.image for c in dep.spec.template.spec.containers]
        return dict(service=service, deployment=dep.metadata.name, image=images[0] if len(images) == 1 else images,
                    image_id=None, revision=int((dep.metadata.annotations or {}).get(REVISION, 0)),
                    replicas=dep.spec.replicas, ready=dep.status.ready_replicas or 0, pinned=None,
                    config_changed=False)

    def _patch(self, service, body, what):
        name = self.deployment_name(service)
        return self.client.call('%s deployment %s' % (what, name), self.client.apps.patch_namespaced_deployment,
                                name, self.namespace, body)

    def _recorded(self, before):
        return {'metadata': {'annotations': {RECORDED: str(before['revision'])}}}

    def restart(self, service, recreate=False):
        before = self.workload(service)
        body = self._recorded(before)
        # On the pod template, as kubectl does: the Deployment's own metadata would roll nothing.
        body['spec'] = {'template': {'metadata': {'annotations': {RESTARTED_AT: _now()}}}}
        self._patch(service, body, 'restarting')
        return before

    def delete_replica(self, name):
        pod = self.client.call('reading pod %s' % name, self.client.core.read_namespaced_pod, name, self.namespace)
        labels = pod.metadata.labels or {}
        for service in self.service_names():
            dep = self.read_deployment(service)
            wanted = (dep.spec.selector.match_labels or {})
            if wanted and all(labels.get(k) == v for k, v in wanted.items()):
                self.client.call('deleting pod %s' % name, self.client.core.delete_namespaced_pod, name, self.namespace)
                return service, [name]
        raise NotFoundError('pod %s belongs to none of the deployments %s' % (name, ', '.join(self.service_names())))

    def scale(self, service, replicas):
        before = self.workload(service)
        self._patch(service, self._recorded(before), 'recording revision of')
        name = self.deployment_name(service)
        self.client.call('scaling deployment %s' % name, self.client.apps.patch_namespaced_deployment_scale,
                         name, self.namespace, {'spec': {'replicas': int(replicas)}})
        return before

    def exec_spawn(self, service, user=None):
        """A Popen-like starter running commands in a Running and Ready pod of
        ``service``'s Deployment through the API server's exec (``kubectl exec
        -i``), for ``access: exec``. Exec cannot switch users: ``user`` is not
        honoured, commands run as the container's user (_k8s_exec)."""
        from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_exec import ExecProcess, open_exec
        dep = self.read_deployment(service)
        selector = selector_string(dep.spec.selector)
        pods = sorted((p for p in self.pods(selector) if p.status.phase == 'Running' and replica_from_pod(p)['ready']
                       and p.metadata.deletion_timestamp is None), key=lambda p: p.metadata.name)
        if not pods:
            raise PlatformError('no Running and Ready pod of deployment %s in namespace %s to run commands in; check '
                                'kubectl get pods -l %s' % (dep.metadata.name, self.namespace, selector))
        pod = pods[0].metadata.name
        names = [c.name for c in pods[0].spec.containers]
        container = next((n for n in (service, dep.metadata.name) if n in names), names[0])
        where = 'pod %s (container %s)' % (pod, container)

        def spawn(argv, stdin, stdout, stderr, env=None):
            # env is for local programs, as on Compose: inside the pod the socket needs no password.
            return ExecProcess(lambda with_stdin: open_exec(self.client, pod, container, argv, with_stdin),
                               argv, stdin, stdout, stderr, where=where)
        return spawn

    def stop(self, service):
        dep = self.read_deployment(service)
        pods = [p.metadata.name for p in self.pods(selector_string(dep.spec.selector))]
        replicas = dep.spec.replicas or 0
        if replicas:
            self.scale(service, 0)
        return dict(service=service, replicas=replicas, pods=pods)

    def start(self, service, token):
        if token['replicas']:
            self.scale(service, token['replicas'])

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None, sleep=time.sleep):
        # ``endpoint`` is not needed: pod readiness already comes from the probes.
        deadline = time.time() + timeout
        while True:
            dep = self.read_deployment(service)
            done, message = rollout_status(dep)
            problems = [] if done else [message]
            if done and (gone or replicas is not None):
                pods = [replica_from_pod(p) for p in self.pods(selector_string(dep.spec.selector))]
                live = [p for p in pods if not p['terminating']]
                if gone and set(gone) & set(p['name'] for p in pods):
                    problems.append('%s still present' % ', '.join(sorted(set(gone) & set(p['name'] for p in pods))))
                want = dep.spec.replicas if replicas is None else replicas
                ready = len([p for p in live if p['ready']])
                if ready != want or len(live) != want:
                    problems.append('%d of %d pods ready (%d live)' % (ready, want, len(live)))
            if not problems:
                return self.services([service])[0]
            if time.time() >= deadline:
                raise self.timeout_error(service, 'finish rolling out', timeout, problems, self.services([service])[0])
            sleep(0.25)

    def container_resources(self, service, container=None):
        """(container name, {requests, limits}) of the pod template."""
        dep = self.read_deployment(service)
        containers = dep.spec.template.spec.containers
        chosen = containers[0] if container is None else next((c for c in containers if c.name == container), None)
        if chosen is None:
            raise NotFoundError('deployment %s has no container %s (it has %s)' % (
                dep.metadata.name, container, ', '.join(c.name for c in containers)))
        res = self.client.api_client.sanitize_for_serialization(chosen.resources) or {}
        return chosen.name, dict(requests=res.get('requests') or {}, limits=res.get('limits') or {})

    def set_resources(self, service, container, resources):
        """Strategic merge on the container (by name): other containers and keys stay."""
        before = self.workload(service)
        body = self._recorded(before)
        body['spec'] = {'template': {'spec': {'containers': [{'name': container, 'resources': resources}]}}}
        self._patch(service, body, 'setting resources of')
        return before

    def _replica_sets(self, service):
        dep = self.read_deployment(service)
        sets = self.client.call('listing replicasets of %s' % dep.metadata.name,
                                self.client.apps.list_namespaced_replica_set, self.namespace,
                                label_selector=selector_string(dep.spec.selector)).items
        owned = [rs for rs in sets if any(o.uid == dep.metadata.uid for o in rs.metadata.owner_references or [])]
        return dep, sorted(owned, key=lambda rs: int((rs.metadata.annotations or {}).get(REVISION, 0)))

    def history(self, service):
        dep, sets = self._replica_sets(service)
        return [dict(revision=int((rs.metadata.annotations or {}).get(REVISION, 0)),
                     images=[c.image for c in rs.spec.template.spec.containers],
                     replicas=rs.status.replicas or 0, created=str(rs.metadata.creation_timestamp))
                for rs in sets]

    def rollback_target(self, service, to=None):
        """kubectl rollout undo's choice: revision ``to``, else the newest before the current one."""
        dep, sets = self._replica_sets(service)
        current = int((dep.metadata.annotations or {}).get(REVISION, 0))

        def revision(rs):
            return int((rs.metadata.annotations or {}).get(REVISION, 0))
        if to is None:
            older = [rs for rs in sets if revision(rs) < current]
            target = older[-1] if older else None
        else:
            if not str(to).strip().isdigit():
                raise ConfigError('rollback_to %r is not a revision number; on Kubernetes set rollback_to to one of '
                                  'the revisions kept (%s), or leave it empty for the previous one'
                                  % (to, ', '.join(str(revision(rs)) for rs in sets) or 'none'))
            target = next((rs for rs in sets if revision(rs) == int(to)), None)
        if target is None:
            known = ', '.join(str(revision(rs)) for rs in sets) or 'none'
            raise NotFoundError('deployment %s has no revision %s to roll back to (revisions kept: %s)'
                                % (dep.metadata.name, to if to is not None else 'before %d' % current, known))
        images = ', '.join(c.image for c in target.spec.template.spec.containers)
        return dict(target=target, label='revision %d (%s)' % (revision(target), images),
                    changes=revision(target) != current, current=current)

    def rollback(self, service, target):
        """Put the pod template of the target revision back, as kubectl rollout
        undo does: a JSON-patch replace, so keys the old template lacks go too."""
        template = self.client.api_client.sanitize_for_serialization(target['target'].spec.template)
        template.get('metadata', {}).get('labels', {}).pop('pod-template-hash', None)
        name = self.deployment_name(service)
        patch = [{'op': 'replace', 'path': '/spec/template', 'value': template},
                 {'op': 'add', 'path': '/metadata/annotations/' + RECORDED.replace('/', '~1'),
                  'value': str(target['current'])}]
        self.client.call('rolling back deployment %s' % name, self.client.apps.patch_namespaced_deployment,
                         name, self.namespace, patch)

    def set_config(self, key, value):
        """Patch one key of the Secret: a merge on ``data`` leaves every other key as it was
        (unlike ``create secret --dry-run | apply``, which can drop them)."""
        encoded = base64.b64encode(value.encode('utf-8')).decode('ascii')
        self.client.call('patching secret %s' % self.secret_name, self.client.core.patch_namespaced_secret,
                         self.secret_name, self.namespace, {'data': {key: encoded}})

    def store(self):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import SecretStore
        return SecretStore(self.client, self.namespace)

    def lock(self, procedure, ttl=60):
        """The namespace's one lock (_locks.LeaseLock, renewed while held);
        ``procedure`` names the holder, ``ttl`` is the Lease duration: a
        killed holder's lock expires that long after its last renewal."""
        from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import LeaseLock
        return LeaseLock(self.client, self.namespace, procedure, ttl)

    def get_config(self, key):
        secret = self.client.call('reading secret %s' % self.secret_name,
                                  self.client.core.read_namespaced_secret, self.secret_name, self.namespace)
        value = (secret.data or {}).get(key)
        return base64.b64decode(value).decode('utf-8') if value is not None else None

    def config_items(self):
        secret = self.client.call('reading secret %s' % self.secret_name,
                                  self.client.core.read_namespaced_secret, self.secret_name, self.namespace)
        return dict((key, base64.b64decode(value).decode('utf-8', 'replace'))
                    for key, value in (secret.data or {}).items() if value is not None)


REVISION = 'deployment.kubernetes.io/revision'
RECORDED = 'quickbite.ops/previous-revision'
RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'


def rollout_status(deployment):
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


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def parse_duration(text):
    """kubectl/compose style durations (90s, 5m, 1h, 1h30m) to seconds."""
    total, matched = 0, False
    for amount, unit in re.findall(r'(\d+)([smhd])', text):
        total += int(amount) * {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}[unit]
        matched = True
    if not matched:
        raise ValueError('cannot read duration %r; use forms such as 90s, 10m, 1h' % text)
    return total
