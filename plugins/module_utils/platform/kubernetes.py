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
    DEFAULT_DEPLOYMENTS, Adapter, judge_service)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_evidence
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_client import (
    K8sClient, selector_string)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_pods import (  # noqa: F401 (replica_from_pod: API)
    ended, ended_entry, log_plan, main_containers, replica_from_pod)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_workloads import (
    REVISION, Workloads, refs, refuse_on_delete, refuse_paused, rollout_status)

# Seconds a single API request may take (connect and answer) when no wait
# bounds it: a hung API server fails the task instead of holding it forever.
REQUEST_TIMEOUT = 30


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
    stores_alert_rules = True
    stores_alert_routing = True
    has_ingress = True

    def __init__(self, module, params):
        self.module = module
        self.deployments = dict(DEFAULT_DEPLOYMENTS)
        self.deployments.update(params.get('deployments') or {})
        self.secret_name = params['secret_name']
        self.refs = refs(self.deployments)
        self.client = K8sClient(params.get('kubeconfig'), params.get('context'), params['namespace'],
                                host=params.get('host'), api_key=params.get('api_key'),
                                ca_cert=params.get('ca_cert'), validate_certs=params.get('verify_ssl'))
        self.namespace = params['namespace']
        self.workloads = Workloads(self.client, self.namespace)
        # No request outlasts the task's own wait timeout (wait() bounds them by its deadline).
        self.wait_timeout = params.get('wait_timeout') or 300
        self.client.request_timeout = min(REQUEST_TIMEOUT, self.wait_timeout)

    def describe(self):
        return 'namespace %s at %s' % (self.namespace, self.client.host)

    def target_name(self):
        return self.namespace

    def stack_restart_effect(self):
        return 'restarts every Deployment of namespace %s' % self.namespace

    def deployment_name(self, service):
        return self._ref(service).name

    def _ref(self, service):
        if service in self.refs:
            return self.refs[service]
        for ref in self.refs.values():
            if ref.name == service:
                return ref
        raise NotFoundError('unknown service %s; known services are %s (set quickbite_k8s_deployments '
                            'to map more)' % (service, ', '.join(sorted(self.deployments))))

    def read_deployment(self, service):
        """The service's Deployment or StatefulSet (_k8s_workloads)."""
        return self.workloads.read(self._ref(service))

    def pods(self, selector):
        return self.client.call('listing pods %s' % selector, self.client.core.list_namespaced_pod,
                                self.namespace, label_selector=selector).items

    def services(self, names=None, detail=True):
        """Ended pods (Failed, Succeeded, Evicted) are listed under ``ended``,
        never judged as replicas: their controller has replaced them."""
        result = []
        for service in names or self.service_names():
            ref = self._ref(service)
            workload = self.workloads.read(ref)
            pods = self.pods(selector_string(workload.spec.selector))
            reps = sorted((replica_from_pod(p, ref) for p in pods if not ended(p)), key=lambda r: r['name'])
            state = judge_service(service, workload.metadata.name, workload.spec.replicas, reps)
            state['kind'] = ref.kind
            state['ended'] = sorted((ended_entry(p) for p in pods if ended(p)), key=lambda e: e['name'])
            result.append(state)
        return result

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        """One entry per pod (``pod/container`` when several containers are
        collected), from the service's main container (_k8s_pods); an API
        error is raised, never turned into an empty log."""
        ref = None
        if selector is None:
            ref = self._ref(service)
            selector = selector_string(self.workloads.read(ref).spec.selector)
        kwargs = {}
        if tail is not None:
            kwargs['tail_lines'] = int(tail)
        if since:
            kwargs['since_seconds'] = since if isinstance(since, int) else parse_duration(since)
        entries = []
        for pod in sorted(self.pods(selector), key=lambda p: p.metadata.name):
            plan = log_plan(pod, ref, previous)
            for container, note in plan:
                source = pod.metadata.name if len(plan) == 1 else '%s/%s' % (pod.metadata.name, container)
                if note:
                    # kubectl would fail here; one such container must not hide the others.
                    entries.append(dict(source=source, lines=[], note=note))
                    continue
                try:
                    text = self.client.call('reading logs of pod %s container %s' % (pod.metadata.name, container),
                                            self.client.core.read_namespaced_pod_log, pod.metadata.name,
                                            self.namespace, container=container, previous=previous, **kwargs)
                except PlatformError as exc:
                    if not ended(pod):
                        raise
                    # An ended pod's containers may be gone from its node: say so, with the error.
                    entries.append(dict(source=source, lines=[], note='pod ended (%s): %s' % (
                        pod.status.reason or pod.status.phase, exc.msg)))
                    continue
                entries.append(dict(source=source, lines=(text or '').splitlines()))
        return entries

    # ---------------------------------------------------------------- changes

    def service_names(self):
        """The services that run in the namespace (not those declared external)."""
        return sorted(service for service, ref in self.refs.items() if not ref.external)

    def workload(self, service, obj=None):
        ref = self._ref(service)
        dep = obj if obj is not None else self.workloads.read(ref)
        # The main container's image (a sidecar's is not the service's version); all with container '*'.
        main = main_containers(dep.spec.template, ref)
        images = [c.image for c in dep.spec.template.spec.containers if c.name in main]
        return dict(service=service, deployment=dep.metadata.name, kind=ref.kind,
                    image=images[0] if len(images) == 1 else images,
                    image_id=None, revision=self.workloads.revision_of(ref, dep),
                    replicas=dep.spec.replicas, ready=(dep.status.ready_replicas if dep.status else 0) or 0,
                    pinned=None, config_changed=False)

    def _patch(self, service, body, what):
        ref = self._ref(service)
        self.workloads.read(ref)  # finds the kind of a bare name
        return self.workloads.patch(ref, body, what)

    def _recorded(self, before):
        return {'metadata': {'annotations': {RECORDED: str(before['revision'])}}}

    def check_restart(self, service, obj=None):
        obj = obj if obj is not None else self.read_deployment(service)
        refuse_paused(obj, 'rollout restart')
        if self._ref(service).kind == 'StatefulSet':
            refuse_on_delete(obj, 'rollout restart')
        return obj

    def restart(self, service, recreate=False):
        obj = self.check_restart(service)
        before = self.workload(service, obj)
        body = self._recorded(before)
        # On the pod template, as kubectl does: the Deployment's own metadata would roll nothing.
        body['spec'] = {'template': {'metadata': {'annotations': {RESTARTED_AT: _now()}}}}
        self._patch(service, body, 'restarting')
        return before

    def delete_replica(self, name):
        """Returns the pod's UID to wait for: a StatefulSet's replacement takes the same name."""
        pod = self.client.call('reading pod %s' % name, self.client.core.read_namespaced_pod, name, self.namespace)
        labels = pod.metadata.labels or {}
        for service in self.service_names():
            dep = self.read_deployment(service)
            wanted = (dep.spec.selector.match_labels or {})
            if wanted and all(labels.get(k) == v for k, v in wanted.items()):
                self.client.call('deleting pod %s' % name, self.client.core.delete_namespaced_pod, name, self.namespace)
                return service, [pod.metadata.uid]
        raise NotFoundError('pod %s belongs to none of the workloads %s' % (name, ', '.join(self.service_names())))

    def scale(self, service, replicas):
        before = self.workload(service)
        self._patch(service, self._recorded(before), 'recording revision of')
        self.workloads.scale(self._ref(service), replicas)
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
        container = main_containers(pods[0], self._ref(service))[0]
        where = 'pod %s (container %s)' % (pod, container)

        def spawn(argv, stdin, stdout, stderr, env=None):
            # env is for local programs, as on Compose: inside the pod the socket needs no password.
            return ExecProcess(lambda with_stdin: open_exec(self.client, pod, container, argv, with_stdin),
                               argv, stdin, stdout, stderr, where=where)
        return spawn

    def stop(self, service, timeout=None):
        """Scale to 0 and wait until every pod is gone (Terminating pods still
        hold the database): within ``timeout``, else the module's wait_timeout."""
        dep = self.read_deployment(service)
        pods = [p.metadata.name for p in self.pods(selector_string(dep.spec.selector))]
        replicas = dep.spec.replicas or 0
        if replicas:
            self.scale(service, 0)
        if pods:
            self._wait_gone(service, dep, pods, timeout or self.wait_timeout)
        return dict(service=service, replicas=replicas, pods=pods)

    def _wait_gone(self, service, dep, names, timeout, sleep=time.sleep):
        deadline = time.time() + timeout
        with self.client.within(deadline):
            while True:
                left = sorted(set(names) & set(p.metadata.name for p in self.pods(selector_string(dep.spec.selector))))
                if not left:
                    return
                if time.time() >= deadline:
                    raise self.timeout_error(service, 'stop', timeout, ['pods %s still present (Terminating)'
                                                                        % ', '.join(left)],
                                             dict(service=service, pods=left))
                sleep(0.2)

    def start(self, service, token):
        if token['replicas']:
            self.scale(service, token['replicas'])

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None, sleep=time.sleep):
        # ``endpoint`` is not needed: pod readiness already comes from the probes.
        # ``gone``: pod names or UIDs (a StatefulSet pod comes back under its name).
        deadline = time.time() + timeout
        ref = self._ref(service)
        while True:
            with self.client.within(deadline):
                dep = self.workloads.read(ref)
                done, message = rollout_status(ref.kind, dep)
                problems = [] if done else [message]
                if done and (gone or replicas is not None):
                    pods = self.pods(selector_string(dep.spec.selector))
                    live = [replica_from_pod(p, ref) for p in pods if not ended(p)
                            and p.metadata.deletion_timestamp is None]
                    gone_ids = set(gone or ())
                    present = sorted(p.metadata.name for p in pods
                                     if gone_ids & {p.metadata.name, p.metadata.uid})
                    if present:
                        problems.append('%s still present' % ', '.join(present))
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
        if self._ref(service).kind == 'StatefulSet':
            return dep, None
        sets = self.client.call('listing replicasets of %s' % dep.metadata.name,
                                self.client.apps.list_namespaced_replica_set, self.namespace,
                                label_selector=selector_string(dep.spec.selector)).items
        owned = [rs for rs in sets if any(o.uid == dep.metadata.uid for o in rs.metadata.owner_references or [])]
        return dep, sorted(owned, key=lambda rs: int((rs.metadata.annotations or {}).get(REVISION, 0)))

    def history(self, service):
        dep, sets = self._replica_sets(service)
        if sets is None:  # a StatefulSet's revisions are its ControllerRevisions
            revs = self.workloads.controller_revisions(dep, selector_string(dep.spec.selector))
            return [dict(revision=int(r.revision or 0), images=[c.get('image') for c in (
                ((r.data or {}).get('spec') or {}).get('template') or {}).get('spec', {}).get('containers', [])],
                replicas=None, created=str(r.metadata.creation_timestamp)) for r in revs]
        return [dict(revision=int((rs.metadata.annotations or {}).get(REVISION, 0)),
                     images=[c.image for c in rs.spec.template.spec.containers],
                     replicas=rs.status.replicas or 0, created=str(rs.metadata.creation_timestamp))
                for rs in sets]

    def incident_state(self, names=None):
        """With lastState.terminated and Warning events (_k8s_evidence)."""
        return _k8s_evidence.incident_state(self, names)

    def rollback_target(self, service, to=None):
        """kubectl rollout undo's choice: revision ``to``, else the newest before the current one."""
        dep, sets = self._replica_sets(service)
        if sets is None:
            raise ConfigError('%s runs as statefulset %s: rollback here is for Deployments; use kubectl rollout undo '
                              'statefulset/%s (after kubectl rollout history) and check it with the health check. '
                              'Nothing was changed.' % (service, dep.metadata.name, dep.metadata.name))
        refuse_paused(dep, 'rollback (rollout undo)')
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

    def runtime_env(self, service):
        """The main container's env of a Running pod, references resolved (_k8s_runtime)."""
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_runtime
        return _k8s_runtime.runtime_env(self, service)

    def service_addresses(self, service, port):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_runtime
        return _k8s_runtime.service_addresses(self, service, port)

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

    def ingresses(self):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_ingress
        return _k8s_ingress.list_ingresses(self.client, self.namespace)

    def set_ingress_annotations(self, name, annotations):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_ingress
        return _k8s_ingress.set_annotations(self.client, self.namespace, name, annotations)

    def read_alert_rules(self, name):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_rules
        return _k8s_rules.read(self.client, self.namespace, name)

    def write_alert_rules(self, name, groups, labels):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_rules
        _k8s_rules.write(self.client, self.namespace, name, groups, labels)

    def read_alert_routing(self, name):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_rules
        return _k8s_rules.read_object(self.client, self.namespace, name, _k8s_rules.ROUTING)

    def write_alert_routing(self, name, spec, labels):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_rules
        _k8s_rules.write_object(self.client, self.namespace, name, spec, labels, _k8s_rules.ROUTING)


RECORDED = 'quickbite.ops/previous-revision'
RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'


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
