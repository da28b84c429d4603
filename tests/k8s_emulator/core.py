"""In-memory Kubernetes API state plus the controllers our roles depend on.

Why not ``kmock.KubernetesEmulator``: kmock 0.8 keeps objects as plain JSON
behind an ``asyncio.Lock`` and simple dict merges.  It has no label selectors
on lists, replaces lists on patch (a strategic merge of one container would
drop the others), serves every subresource (``/scale``, ``/status``, ``/log``)
as the parent object, and sets no ``metadata.generation`` or
``resourceVersion``.  Nearly every request path would have to be overridden,
and its asyncio lock makes thread-safe fault injection from a synchronous
test awkward.  This module is therefore a small self-contained emulator:
one ``threading.RLock`` guards the store, HTTP handler threads
(``server.py``) and one controller thread read and write under it, and the
test thread calls the fault-injection methods directly.

Controllers simulated on every tick (default 50 ms; 200 ms once nothing has changed for 0.5 s):

* deployment controller: new ReplicaSet per pod template (hash label,
  ``deployment.kubernetes.io/revision``), reuse of an old ReplicaSet whose
  template equals the Deployment's (rollback) with the next revision,
  RollingUpdate with maxSurge/maxUnavailable (the upstream algorithm:
  reconcileNewReplicaSet, cleanupUnhealthyReplicas, scaleDownOldReplicaSets),
  Recreate, paused, revisionHistoryLimit clean-up, status counters and the
  Available/Progressing conditions incl. ProgressDeadlineExceeded;
* replicaset controller: creates/deletes pods to match spec.replicas (it
  deletes not-ready and newest pods first), status counters;
* kubelet: Pending (ContainerCreating) -> Running/Ready after
  ``pod_start_delay``; crash loops, failing readiness, logs;
* garbage collector: deleting a Deployment/ReplicaSet deletes what it owns.
"""

import base64
import collections
import copy
import datetime
import hashlib
import itertools
import json
import math
import random
import threading
import time
import uuid

from . import logs as loglines
from .patching import PatchError, apply_patch
from .selectors import (SelectorError, parse_field_selector, parse_label_selector,
                        selector_matches, selector_to_string)
from .hang import HangFault
from .phases import PodPhases, terminal
from .rbac import Rbac
from .statefulsets import StatefulSetController, sts_defaults

NAMESPACE = 'quickbite'
SECRET_NAME = 'quickbite-secrets'
DEFAULT_SECRETS = {
    'JWT_SECRET': 'emulator-jwt-secret-0123456789abcdef0123456789abcdef',
    'DB_PASSWORD': 'emulator-db-password',
    'REDIS_PASSWORD': 'emulator-redis-password',
    'PAYMENT_WEBHOOK_SECRET': 'emulator-webhook-secret',
    'POSTGRES_PASSWORD': 'emulator-db-password',
    'DB_USER': 'quickbite',
    'DB_NAME': 'quickbite',
}

REVISION = 'deployment.kubernetes.io/revision'
REVISION_HISTORY = 'deployment.kubernetes.io/revision-history'
DESIRED = 'deployment.kubernetes.io/desired-replicas'
MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas'
HASH_LABEL = 'pod-template-hash'
ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789'


class Resource(object):
    def __init__(self, plural, group, version, kind, namespaced=True, subresources=(), short=()):
        self.plural, self.group, self.version, self.kind = plural, group, version, kind
        self.namespaced, self.subresources, self.short = namespaced, subresources, short

    @property
    def api_version(self):
        return '%s/%s' % (self.group, self.version) if self.group else self.version

    @property
    def qualified(self):  # for error messages: deployments.apps
        return '%s.%s' % (self.plural, self.group) if self.group else self.plural


RESOURCES = {r.plural: r for r in [
    Resource('namespaces', '', 'v1', 'Namespace', False, ('status',), ('ns',)),
    Resource('pods', '', 'v1', 'Pod', True, ('log', 'status', 'exec'), ('po',)),
    Resource('secrets', '', 'v1', 'Secret'),
    Resource('configmaps', '', 'v1', 'ConfigMap', short=('cm',)),
    Resource('services', '', 'v1', 'Service', True, ('status',), ('svc',)),
    Resource('serviceaccounts', '', 'v1', 'ServiceAccount', short=('sa',)),
    Resource('events', '', 'v1', 'Event', short=('ev',)),
    Resource('deployments', 'apps', 'v1', 'Deployment', True, ('scale', 'status'), ('deploy',)),
    Resource('replicasets', 'apps', 'v1', 'ReplicaSet', True, ('scale', 'status'), ('rs',)),
    Resource('statefulsets', 'apps', 'v1', 'StatefulSet', True, ('scale', 'status'), ('sts',)),
    Resource('controllerrevisions', 'apps', 'v1', 'ControllerRevision'),
    Resource('leases', 'coordination.k8s.io', 'v1', 'Lease'),
    Resource('roles', 'rbac.authorization.k8s.io', 'v1', 'Role'),
    Resource('rolebindings', 'rbac.authorization.k8s.io', 'v1', 'RoleBinding'),
    Resource('clusterroles', 'rbac.authorization.k8s.io', 'v1', 'ClusterRole', False),
    Resource('clusterrolebindings', 'rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', False),
]}
WITH_STATUS = {'deployments', 'replicasets', 'statefulsets', 'pods', 'namespaces', 'services'}
WITH_GENERATION = {'deployments', 'replicasets', 'statefulsets'}
WORKLOADS = ('deployments', 'replicasets', 'statefulsets')


class ApiError(Exception):
    """A Kubernetes ``Status`` failure."""

    def __init__(self, code, reason, message, details=None):
        Exception.__init__(self, message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        body = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                'message': self.message, 'reason': self.reason, 'code': self.code}
        if self.details:
            body['details'] = self.details
        return body


def not_found(res, name):
    return ApiError(404, 'NotFound', '%s "%s" not found' % (res.qualified, name),
                    {'name': name, 'group': res.group, 'kind': res.plural})


def invalid(res, name, message):
    return ApiError(422, 'Invalid', '%s.%s "%s" is invalid: %s' % (
        res.kind, res.group or 'core', name, message), {'name': name, 'group': res.group, 'kind': res.kind})


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def rfc3339nano(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f') + '000Z'


def parse_time(text):
    return datetime.datetime.strptime(text.rstrip('Z').split('.')[0], '%Y-%m-%dT%H:%M:%S').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':'))


def template_hash(template, collision=0):
    """kube-controller-manager's ComputeHash: fnv32a, then SafeEncodeString."""
    h = 0x811c9dc5
    for b in (canonical(template) + (str(collision) if collision else '')).encode():
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return ''.join(ALPHANUMS[ord(c) % len(ALPHANUMS)] for c in str(h))


def random_suffix(n=5):
    return ''.join(random.choice(ALPHANUMS) for dummy in range(n))


def resolve_int_or_percent(value, total, round_up):
    if value is None:
        return 0
    if isinstance(value, str) and value.endswith('%'):
        frac = int(value[:-1]) * total / 100.0
        return int(math.ceil(frac)) if round_up else int(math.floor(frac))
    return int(value)


def default_pod_spec(spec):
    """The defaults the API server fills into a PodSpec (so that templates
    read back and re-applied by a client compare equal)."""
    spec.setdefault('restartPolicy', 'Always')
    spec.setdefault('terminationGracePeriodSeconds', 30)
    spec.setdefault('dnsPolicy', 'ClusterFirst')
    spec.setdefault('securityContext', {})
    spec.setdefault('schedulerName', 'default-scheduler')
    for c in (spec.get('containers') or []) + (spec.get('initContainers') or []):
        image = c.get('image') or ''
        tag = image.rsplit('/', 1)[-1]
        c.setdefault('imagePullPolicy', 'Always' if (':' not in tag or tag.endswith(':latest')) else 'IfNotPresent')
        c.setdefault('terminationMessagePath', '/dev/termination-log')
        c.setdefault('terminationMessagePolicy', 'File')
        c.setdefault('resources', {})
        for p in c.get('ports') or []:
            p.setdefault('protocol', 'TCP')
        for probe in ('readinessProbe', 'livenessProbe', 'startupProbe'):
            pr = c.get(probe)
            if isinstance(pr, dict):
                pr.setdefault('timeoutSeconds', 1)
                pr.setdefault('periodSeconds', 10)
                pr.setdefault('successThreshold', 1)
                pr.setdefault('failureThreshold', 3)
                if isinstance(pr.get('httpGet'), dict):
                    pr['httpGet'].setdefault('scheme', 'HTTP')
    return spec


def prune_nulls(value):
    """JSON nulls in a written object mean "absent" to the API server (Go
    structs); kubectl sends e.g. ``template.metadata.creationTimestamp: null``."""
    if isinstance(value, dict):
        return {k: prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune_nulls(v) for v in value]
    return value


def strip_hash(template):
    t = copy.deepcopy(template or {})
    labels = (t.get('metadata') or {}).get('labels')
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


class PodSim(object):
    """What the emulated kubelet knows about one pod (not part of the API)."""

    def __init__(self, created, start_at, ip):
        self.created = created
        self.start_at = start_at        # containers running (and Ready if healthy) from here
        self.running_since = None       # current container instance started
        self.ready_since = None
        self.restart_base = 0
        self.crash_since = None
        self.crash_lines = None
        self.last_terminated = None     # (started, finished, exitCode, reason)
        self.ip = ip
        self.container_ids = {}
        self.logs = collections.defaultdict(list)       # container -> [(t, line)]
        self.prev_logs = {}                             # container -> [(t, line)]
        self.delete_at = None
        self.rs_uid = None
        self.deployment = None
        self.started_logged = False
        self.unready_logged = False
        self.backoff_events = 0
        self.terminal = None            # (phase or 'Evicted', time) once ended (phases.py)

    def restart_count(self, now, interval):
        if self.crash_since is None:
            return self.restart_base
        return self.restart_base + 1 + int(max(now - self.crash_since, 0) / interval)


class Emulator(StatefulSetController, PodPhases, HangFault, Rbac):
    """The emulated cluster.  Every public method is thread-safe."""

    def __init__(self, secrets=None, pod_start_delay=0.2, tick=0.05, progress_deadline_seconds=None,
                 crash_interval=0.5, pod_terminate_delay=0.0, token=None, namespace=NAMESPACE,
                 seed=True, history_size=20000, max_events=1000, watch_cache_size=5000, exec_backends=None,
                 exec_protocols=('v5.channel.k8s.io', 'v4.channel.k8s.io'), statefulsets=(), sidecars=None,
                 rbac=False, service_account_tokens=None, rbac_objects=(), exec_create_check=True):
        self.secret_values = dict(DEFAULT_SECRETS)
        self.secret_values.update(secrets or {})
        self.pod_start_delay = float(pod_start_delay)
        self.tick = float(tick)
        self.progress_deadline_seconds = progress_deadline_seconds
        self.crash_interval = float(crash_interval)
        self.pod_terminate_delay = float(pod_terminate_delay)
        self.token = token
        self.namespace = namespace
        self.seed_enabled = seed
        # seed shape (seed.py): workloads made StatefulSets, sidecar containers per workload
        self.seed_statefulsets = tuple(statefulsets or ())
        self.seed_sidecars = sidecars
        # pod exec (podexec.py): target (pod, Deployment or app label) -> argv prefix that runs the
        # command for real; configuration, so reset() keeps it.
        self.exec_backends = dict(exec_backends or {})
        self.exec_protocols = tuple(exec_protocols)
        self.exec_log = collections.deque(maxlen=1000)  # (pod, container, argv, protocol) of every exec
        self.history_size = history_size
        self.max_events = max_events
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        self._rv_value = 1000
        self._watchers = []
        self._event_log = collections.deque(maxlen=watch_cache_size)
        self.requests = collections.deque(maxlen=2000)
        self.ticks = 0
        self._init_auth(rbac, service_account_tokens, rbac_objects, exec_create_check)
        self._init_hang()
        self._init_state()
        if seed:
            self._seed()

    # ------------------------------------------------------------------ state

    def _init_state(self):
        self._objs = {}                # (plural, ns, name) -> dict
        self._sims = {}                # pod uid -> PodSim
        self._progress = {}            # deployment uid -> last progress time (float)
        self._history = collections.defaultdict(lambda: collections.deque(maxlen=self.history_size))
        self._crash = {}               # target -> log lines or None
        self._unready = {}             # target -> the one container that fails readiness, or None (all)
        self._fail_new = {}            # (ns, deployment) -> set of RS uids that stay healthy
        self._ip_counter = itertools.count(2)
        self._fake_now = None

    def now(self):
        return self._fake_now if self._fake_now is not None else time.time()

    def _next_rv(self):
        self._rv_value += 1
        return str(self._rv_value)

    def _res(self, plural):
        res = RESOURCES.get(plural)
        if res is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        return res

    def _notify(self, kind, plural, obj):
        snapshot = copy.deepcopy(obj)
        self._event_log.append((int(obj['metadata']['resourceVersion']), kind, plural, snapshot))
        for w in list(self._watchers):
            w.offer(kind, plural, snapshot)

    def _store(self, plural, obj, event='MODIFIED'):
        meta = obj['metadata']
        meta['resourceVersion'] = self._next_rv()
        self._objs[(plural, meta.get('namespace', ''), meta['name'])] = obj
        self._notify(event, plural, obj)
        return obj

    def _update(self, plural, new, old):
        """Store ``new`` in place of ``old`` if it differs; bumps generation on spec change."""
        if plural in WITH_GENERATION and canonical(new.get('spec')) != canonical(old.get('spec')):
            new['metadata']['generation'] = old['metadata'].get('generation', 1) + 1
        probe_new = dict(new, metadata=dict(new['metadata'], resourceVersion=None))
        probe_old = dict(old, metadata=dict(old['metadata'], resourceVersion=None))
        if canonical(probe_new) == canonical(probe_old):
            return old
        self._wake.set()
        return self._store(plural, new)

    def _remove(self, plural, obj):
        meta = obj['metadata']
        key = (plural, meta.get('namespace', ''), meta['name'])
        if self._objs.pop(key, None) is not None:
            meta = dict(meta, resourceVersion=self._next_rv())
            self._notify('DELETED', plural, dict(obj, metadata=meta))
            if plural == 'pods':
                self._sims.pop(meta['uid'], None)
            for child_plural in ('replicasets', 'controllerrevisions', 'pods'):
                for child in list(self._iter(child_plural, meta.get('namespace', ''))):
                    if any(ref.get('uid') == meta['uid'] for ref in child['metadata'].get('ownerReferences') or []):
                        self._remove(child_plural, child)
            self._wake.set()

    def _iter(self, plural, namespace=None):
        for (p, ns, dummy), obj in list(self._objs.items()):
            if p == plural and (namespace is None or ns == namespace):
                yield obj

    def _owned(self, plural, owner):
        uid = owner['metadata']['uid']
        return [o for o in self._iter(plural, owner['metadata']['namespace'])
                if any(r.get('uid') == uid and r.get('controller') for r in o['metadata'].get('ownerReferences') or [])]

    def _event(self, plural, obj, reason, message, kind='Normal', component='kubelet'):
        """Record a core/v1 Event like the controllers and kubelet do (repeats are counted)."""
        meta = obj['metadata']
        ns = meta.get('namespace') or 'default'
        now = self.now()
        for ev in self._iter('events', ns):
            io = ev['involvedObject']
            if io.get('uid') == meta.get('uid') and ev['reason'] == reason and ev['message'] == message:
                new = copy.deepcopy(ev)
                new['count'] = ev.get('count', 1) + 1
                new['lastTimestamp'] = rfc3339(now)
                self._store('events', new)
                return
        res = RESOURCES[plural]
        ev = {'metadata': {'name': '%s.%016x' % (meta['name'], random.getrandbits(64)), 'namespace': ns,
                           'uid': str(uuid.uuid4()), 'creationTimestamp': rfc3339(now)},
              'involvedObject': {'kind': res.kind, 'namespace': ns, 'name': meta['name'], 'uid': meta.get('uid'),
                                 'apiVersion': res.api_version, 'resourceVersion': meta.get('resourceVersion')},
              'reason': reason, 'message': message, 'type': kind, 'count': 1,
              'firstTimestamp': rfc3339(now), 'lastTimestamp': rfc3339(now),
              'source': {'component': component}, 'reportingComponent': component,
              'reportingInstance': component == 'kubelet' and 'emulator-node-1' or ''}
        if component == 'kubelet':
            ev['source']['host'] = 'emulator-node-1'
        self._store('events', ev, 'ADDED')
        events = list(self._iter('events'))
        if len(events) > self.max_events:
            events.sort(key=lambda e: int(e['metadata']['resourceVersion']))
            for old in events[:len(events) - self.max_events]:
                self._remove('events', old)

    def _new_meta(self, res, namespace, meta, now):
        meta = copy.deepcopy(meta or {})
        if not meta.get('name'):
            if meta.get('generateName'):
                meta['name'] = meta['generateName'] + random_suffix()
            else:
                raise ApiError(422, 'Invalid', '%s "" is invalid: metadata.name: Required value: name or '
                               'generateName is required' % res.kind)
        if res.namespaced:
            meta['namespace'] = namespace
        else:
            meta.pop('namespace', None)
        meta['uid'] = str(uuid.uuid4())
        meta['creationTimestamp'] = rfc3339(now)
        for k in ('resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'):
            meta.pop(k, None)
        if res.plural in WITH_GENERATION:
            meta['generation'] = 1
        return meta

    def _apply_defaults(self, plural, obj):
        spec = obj.get('spec')
        if plural == 'deployments':
            spec = obj.setdefault('spec', {})
            spec.setdefault('replicas', 1)
            spec.setdefault('revisionHistoryLimit', 10)
            spec.setdefault('progressDeadlineSeconds', 600)
            strategy = spec.setdefault('strategy', {})
            strategy.setdefault('type', 'RollingUpdate')
            if strategy['type'] == 'RollingUpdate':
                ru = strategy.setdefault('rollingUpdate', {})
                ru.setdefault('maxSurge', '25%')
                ru.setdefault('maxUnavailable', '25%')
            default_pod_spec(spec.setdefault('template', {}).setdefault('spec', {}))
            obj.setdefault('status', {})
        elif plural == 'replicasets':
            spec = obj.setdefault('spec', {})
            spec.setdefault('replicas', 1)
            default_pod_spec(spec.setdefault('template', {}).setdefault('spec', {}))
            obj.setdefault('status', {'replicas': 0})
        elif plural == 'statefulsets':
            spec = sts_defaults(obj.setdefault('spec', {}))
            default_pod_spec(spec.setdefault('template', {}).setdefault('spec', {}))
            obj.setdefault('status', {'replicas': 0, 'availableReplicas': 0})
        elif plural == 'pods':
            spec = default_pod_spec(obj.setdefault('spec', {}))
            spec.setdefault('serviceAccountName', 'default')
            spec.setdefault('serviceAccount', spec['serviceAccountName'])
            spec.setdefault('enableServiceLinks', True)
            spec.setdefault('priority', 0)
            spec.setdefault('preemptionPolicy', 'PreemptLowerPriority')
        elif plural == 'secrets':
            obj.setdefault('type', 'Opaque')
            string_data = obj.pop('stringData', None) or {}
            data = obj.get('data') or {}
            for k, v in string_data.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
            for k, v in data.items():
                try:
                    base64.b64decode(v, validate=True)
                except Exception:
                    raise ApiError(400, 'BadRequest', 'Secret in version "v1" cannot be handled as a Secret: '
                                   'illegal base64 data in data.%s' % k)
            obj['data'] = data
        elif plural == 'namespaces':
            obj.setdefault('spec', {'finalizers': ['kubernetes']})
            obj['status'] = {'phase': 'Active'}
            obj['metadata'].setdefault('labels', {})['kubernetes.io/metadata.name'] = obj['metadata']['name']
        return obj

    def _validate(self, plural, obj, old=None):
        res = RESOURCES[plural]
        name = obj['metadata']['name']
        if plural in WORKLOADS:
            spec = obj.get('spec') or {}
            selector = spec.get('selector')
            if not selector or not (selector.get('matchLabels') or selector.get('matchExpressions')):
                raise invalid(res, name, 'spec.selector: Required value')
            labels = ((spec.get('template') or {}).get('metadata') or {}).get('labels') or {}
            if not selector_matches(selector, labels):
                raise invalid(res, name, 'spec.template.metadata.labels: Invalid value: %s: `selector` does '
                              'not match template `labels`' % json.dumps(labels))
            if old is not None and canonical(selector) != canonical((old.get('spec') or {}).get('selector')):
                raise invalid(res, name, 'spec.selector: Invalid value: %s: field is immutable'
                              % json.dumps(selector))
            if not ((spec.get('template') or {}).get('spec') or {}).get('containers'):
                raise invalid(res, name, 'spec.template.spec.containers: Required value')
            if spec.get('replicas') is not None and int(spec['replicas']) < 0:
                raise invalid(res, name, 'spec.replicas: Invalid value: %s: must be greater than or equal to 0'
                              % spec['replicas'])
        if plural == 'statefulsets':
            strategy = (obj.get('spec') or {}).get('updateStrategy') or {}
            if strategy.get('type') != 'RollingUpdate' and strategy.get('rollingUpdate') is not None:
                raise invalid(res, name, "spec.updateStrategy.rollingUpdate: Invalid value: %s: only allowed for "
                              "updateStrategy 'RollingUpdate'" % json.dumps(strategy['rollingUpdate']))
        if plural == 'leases':
            spec = obj.get('spec') or {}
            for field, least in (('leaseDurationSeconds', 1), ('leaseTransitions', 0)):
                if spec.get(field) is not None and int(spec[field]) < least:
                    raise invalid(res, name, 'spec.%s: Invalid value: %s: must be greater than %s' % (
                        field, spec[field], 'or equal to 0' if least == 0 else '0'))
        if plural == 'pods' and not (obj.get('spec') or {}).get('containers'):
            raise invalid(res, name, 'spec.containers: Required value')
        if plural == 'ingresses':
            from .ingresses import validate
            validate(obj)

    def _check_namespace(self, res, namespace):
        if res.namespaced and ('namespaces', '', namespace) not in self._objs:
            raise ApiError(404, 'NotFound', 'namespaces "%s" not found' % namespace,
                           {'name': namespace, 'kind': 'namespaces'})

    def _out(self, plural, obj):
        res = RESOURCES[plural]
        out = copy.deepcopy(obj)
        out['apiVersion'] = res.api_version
        out['kind'] = res.kind
        return out

    # ------------------------------------------------------------ API verbs

    def api_get(self, plural, namespace, name):
        res = self._res(plural)
        with self._lock:
            obj = self._objs.get((plural, namespace if res.namespaced else '', name))
            if obj is None:
                raise not_found(res, name)
            return self._out(plural, obj)

    def _matcher(self, label_selector, field_selector):
        try:
            lsel = parse_label_selector(label_selector or '')
            fsel = parse_field_selector(field_selector or '')
        except SelectorError as exc:
            raise ApiError(400, 'BadRequest', str(exc))
        return lambda o: lsel(o['metadata'].get('labels') or {}) and fsel(o)

    def api_list(self, plural, namespace=None, label_selector=None, field_selector=None):
        res = self._res(plural)
        match = self._matcher(label_selector, field_selector)
        with self._lock:
            ns = namespace if res.namespaced else None
            items = [copy.deepcopy(o) for o in self._iter(plural, ns) if match(o)]
            items.sort(key=lambda o: (o['metadata'].get('namespace', ''), o['metadata']['name']))
            return {'kind': res.kind + 'List', 'apiVersion': res.api_version,
                    'metadata': {'resourceVersion': str(self._peek_rv())}, 'items': items}

    def _peek_rv(self):
        return self._rv_value

    def api_create(self, plural, namespace, body, dry_run=False):
        res = self._res(plural)
        if not isinstance(body, dict):
            raise ApiError(400, 'BadRequest', 'the body of the request must be an object')
        with self._lock:
            now = self.now()
            self._check_namespace(res, namespace)
            obj = prune_nulls(body)
            obj.pop('apiVersion', None)
            obj.pop('kind', None)
            if res.namespaced and (body.get('metadata') or {}).get('namespace') not in (None, '', namespace):
                raise ApiError(400, 'BadRequest', 'the namespace of the provided object does not match '
                               'the namespace sent on the request')
            obj['metadata'] = self._new_meta(res, namespace, obj.get('metadata'), now)
            key = (plural, obj['metadata'].get('namespace', ''), obj['metadata']['name'])
            if key in self._objs:
                raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (res.qualified, key[2]),
                               {'name': key[2], 'group': res.group, 'kind': res.plural})
            if plural in WITH_STATUS and plural != 'namespaces':
                obj.pop('status', None)
            self._apply_defaults(plural, obj)
            self._validate(plural, obj)
            if dry_run:
                return self._out(plural, obj)
            if plural == 'pods':
                self._register_pod(obj, now)
            self._store(plural, obj, 'ADDED')
            if plural == 'pods':
                self._scheduled_event(obj)
            self._wake.set()
            return self._out(plural, obj)

    def _write(self, plural, namespace, name, new, old, subresource, dry_run):
        res = RESOURCES[plural]
        status = copy.deepcopy(new.get('status'))
        new = prune_nulls(new)
        if status is not None:
            new['status'] = status
        new.pop('apiVersion', None)
        new.pop('kind', None)
        meta = new.setdefault('metadata', {}) if isinstance(new.get('metadata'), dict) else {}
        new['metadata'] = meta
        if meta.get('name') not in (None, name):
            raise ApiError(400, 'BadRequest', 'the name of the object (%s) does not match the name on the '
                           'URL (%s)' % (meta.get('name'), name))
        rv = meta.get('resourceVersion')
        if rv and rv != old['metadata'].get('resourceVersion'):
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": the object has been '
                           'modified; please apply your changes to the latest version and try again'
                           % (res.qualified, name), {'name': name, 'group': res.group, 'kind': res.plural})
        for k in ('uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds',
                  'namespace', 'name'):
            if k in old['metadata']:
                meta[k] = old['metadata'][k]
            else:
                meta.pop(k, None)
        if subresource == 'status':
            merged = copy.deepcopy(old)
            merged['status'] = new.get('status') or {}
            new = merged
        elif plural in WITH_STATUS:
            new['status'] = copy.deepcopy(old.get('status'))
            if new['status'] is None:
                new.pop('status')
        self._apply_defaults(plural, new)
        self._validate(plural, new, old)
        if dry_run:
            out = copy.deepcopy(new)
            if plural in WITH_GENERATION and canonical(new.get('spec')) != canonical(old.get('spec')):
                out['metadata']['generation'] = old['metadata'].get('generation', 1) + 1
            return self._out(plural, out)
        return self._out(plural, self._update(plural, new, old))

    def api_replace(self, plural, namespace, name, body, subresource=None, dry_run=False):
        res = self._res(plural)
        if not isinstance(body, dict):
            raise ApiError(400, 'BadRequest', 'the body of the request must be an object')
        with self._lock:
            old = self._objs.get((plural, namespace if res.namespaced else '', name))
            if old is None:
                raise not_found(res, name)
            return self._write(plural, namespace, name, body, old, subresource, dry_run)

    def api_patch(self, plural, namespace, name, patch, content_type, subresource=None, dry_run=False):
        res = self._res(plural)
        with self._lock:
            old = self._objs.get((plural, namespace if res.namespaced else '', name))
            if old is None:
                if (content_type or '').startswith('application/apply-patch') and isinstance(patch, dict):
                    return self.api_create(plural, namespace, dict(patch, metadata=dict(
                        patch.get('metadata') or {}, name=name)), dry_run=dry_run)
                raise not_found(res, name)
            base = self._out(plural, old)
            try:
                new = apply_patch(base, patch, content_type)
            except PatchError as exc:
                raise ApiError(422 if 'test operation' in str(exc) else 400, 'BadRequest', str(exc))
            if not isinstance(new, dict):
                raise ApiError(400, 'BadRequest', 'the patch did not produce an object')
            # a patch never carries an optimistic-concurrency check unless it sets resourceVersion itself
            patch_rv = ((patch.get('metadata') or {}).get('resourceVersion') if isinstance(patch, dict) else None)
            new.setdefault('metadata', {})['resourceVersion'] = patch_rv
            return self._write(plural, namespace, name, new, old, subresource, dry_run)

    def api_delete(self, plural, namespace, name, grace_period=None, dry_run=False, preconditions=None):
        res = self._res(plural)
        with self._lock:
            obj = self._objs.get((plural, namespace if res.namespaced else '', name))
            if obj is None:
                raise not_found(res, name)
            self._check_preconditions(res, obj, preconditions or {})
            out = self._out(plural, obj)
            if dry_run:
                return out
            if plural == 'pods':
                return self._delete_pod(obj, grace_period)
            self._remove(plural, obj)
            return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success',
                    'details': {'name': name, 'group': res.group, 'kind': res.plural,
                                'uid': obj['metadata']['uid']}}

    @staticmethod
    def _check_preconditions(res, obj, preconditions):
        """DeleteOptions.preconditions (uid, resourceVersion): 409 Conflict as the registry words it."""
        meta = obj['metadata']
        for field, label in (('uid', 'UID'), ('resourceVersion', 'ResourceVersion')):
            want = preconditions.get(field)
            if want is not None and want != meta.get(field):
                raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": Precondition failed: '
                               '%s in precondition: %s, %s in object meta: %s' % (
                                   res.qualified, meta['name'], label, want, label, meta.get(field)),
                               {'name': meta['name'], 'group': res.group, 'kind': res.plural})

    def api_delete_collection(self, plural, namespace, label_selector=None, field_selector=None):
        res = self._res(plural)
        match = self._matcher(label_selector, field_selector)
        with self._lock:
            items = [o for o in self._iter(plural, namespace if res.namespaced else None) if match(o)]
            out = []
            for o in items:
                out.append(self._out(plural, o))
                if plural == 'pods':
                    self._delete_pod(o, None)
                else:
                    self._remove(plural, o)
            return {'kind': res.kind + 'List', 'apiVersion': res.api_version,
                    'metadata': {}, 'items': out}

    def _delete_pod(self, pod, grace_period):
        now = self.now()
        sim = self._sims.get(pod['metadata']['uid'])
        if sim is not None and sim.delete_at is None and sim.running_since is not None:
            for c in pod['spec'].get('containers') or []:
                self._event('pods', pod, 'Killing', 'Stopping container %s' % c['name'])
        delay = self.pod_terminate_delay if grace_period is None else min(float(grace_period), self.pod_terminate_delay)
        if delay <= 0 or sim is None:
            out = self._out('pods', pod)
            self._remove('pods', pod)
            return out
        if sim.delete_at is None:
            sim.delete_at = now + delay
            new = copy.deepcopy(pod)
            new['metadata']['deletionTimestamp'] = rfc3339(now + delay)
            new['metadata']['deletionGracePeriodSeconds'] = int(math.ceil(delay))
            pod = self._update('pods', new, pod)
        return self._out('pods', pod)

    # ---------------------------------------------------------------- scale

    def _scale_target(self, plural, namespace, name):
        if plural not in WORKLOADS:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        obj = self._objs.get((plural, namespace, name))
        if obj is None:
            raise not_found(RESOURCES[plural], name)
        return obj

    def _scale_of(self, obj):
        meta = obj['metadata']
        return {'kind': 'Scale', 'apiVersion': 'autoscaling/v1',
                'metadata': {k: meta[k] for k in ('name', 'namespace', 'uid', 'resourceVersion',
                                                  'creationTimestamp') if k in meta},
                'spec': {'replicas': obj['spec'].get('replicas', 1)},
                'status': {'replicas': (obj.get('status') or {}).get('replicas', 0),
                           'selector': selector_to_string(obj['spec'].get('selector'))}}

    def get_scale(self, plural, namespace, name):
        with self._lock:
            return self._scale_of(self._scale_target(plural, namespace, name))

    def set_scale(self, plural, namespace, name, body=None, patch=None, content_type=None, dry_run=False):
        with self._lock:
            obj = self._scale_target(plural, namespace, name)
            scale = self._scale_of(obj)
            if patch is not None:
                try:
                    scale = apply_patch(scale, patch, content_type)
                except PatchError as exc:
                    raise ApiError(400, 'BadRequest', str(exc))
            else:
                rv = ((body or {}).get('metadata') or {}).get('resourceVersion')
                if rv and rv != obj['metadata']['resourceVersion']:
                    raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": the object has '
                                   'been modified; please apply your changes to the latest version and try again'
                                   % (RESOURCES[plural].qualified, name))
                scale = body or {}
            replicas = (scale.get('spec') or {}).get('replicas')
            if replicas is None or int(replicas) < 0:
                raise ApiError(422, 'Invalid', 'Scale.autoscaling "%s" is invalid: spec.replicas: Invalid value: '
                               '%s: must be greater than or equal to 0' % (name, replicas))
            new = copy.deepcopy(obj)
            new['spec']['replicas'] = int(replicas)
            if not dry_run:
                obj = self._update(plural, new, obj)
            else:
                obj = new
            return self._scale_of(obj)

    # ----------------------------------------------------------------- logs

    def _pod_container(self, namespace, name, container):
        """The pod and the container a logs or exec request names, as the API
        server picks it (the only one when none is named); caller holds the lock."""
        pod = self._objs.get(('pods', namespace, name))
        if pod is None:
            raise not_found(RESOURCES['pods'], name)
        names = [c['name'] for c in pod['spec'].get('containers') or []]
        if container is None:
            if len(names) != 1:
                raise ApiError(400, 'BadRequest', 'a container name must be specified for pod %s, choose one '
                               'of: [%s]' % (name, ' '.join(names)))
            return pod, names[0]
        if container not in names:
            raise ApiError(400, 'BadRequest', 'container %s is not valid for pod %s' % (container, name))
        return pod, container

    def pod_log(self, namespace, name, container=None, tail_lines=None, since_seconds=None, since_time=None,
                previous=False, timestamps=False, limit_bytes=None):
        with self._lock:
            pod, container = self._pod_container(namespace, name, container)
            sim = self._sims.get(pod['metadata']['uid'])
            now = self.now()
            if previous:
                entries = (sim.prev_logs.get(container) if sim else None)
                if entries is None:
                    raise ApiError(400, 'BadRequest', 'previous terminated container "%s" in pod "%s" not found'
                                   % (container, name))
            else:
                if sim is None or (sim.running_since is None and sim.crash_since is None):
                    raise ApiError(400, 'BadRequest', 'container "%s" in pod "%s" is waiting to start: '
                                   'ContainerCreating' % (container, name))
                entries = sim.logs.get(container, [])
            entries = [e for e in entries if e[0] <= now + 1e-6]
            if since_seconds is not None:
                entries = [e for e in entries if e[0] >= now - float(since_seconds)]
            if since_time is not None:
                cutoff = parse_time(since_time)
                entries = [e for e in entries if e[0] >= cutoff]
            if tail_lines is not None:
                n = int(tail_lines)
                entries = entries[-n:] if n > 0 else []
            text = ''.join('%s%s\n' % (rfc3339nano(t) + ' ' if timestamps else '', line) for t, line in entries)
            if limit_bytes is not None:
                text = text.encode()[:int(limit_bytes)].decode('utf-8', 'ignore')
            return text

    # ------------------------------------------------------------ watching

    def add_watcher(self, watcher, since=None):
        """Register a watch; with ``since`` (a resourceVersion) replay the later
        events from the watch cache first, as the API server does.  Returns
        False when ``since`` is older than the cache (the caller answers 410)."""
        with self._lock:
            if since is not None:
                since = int(since)
                if len(self._event_log) == self._event_log.maxlen and self._event_log[0][0] > since + 1:
                    return False
                for rv, kind, plural, obj in self._event_log:
                    if rv > since:
                        watcher.offer(kind, plural, obj)
            self._watchers.append(watcher)
            return True

    def remove_watcher(self, watcher):
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    # ----------------------------------------------------------- lifecycle

    def start(self):
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name='k8s-emulator-controllers', daemon=True)
            self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            for w in list(self._watchers):
                w.close()

    # After this long without a write or a change, the controllers tick every IDLE_TICK
    # instead: an idle emulator cost 9 % of a core at 50 ms, and make test runs several
    # at once. A write wakes them at once; only a change due to time alone (a start or
    # termination delay longer than IDLE_AFTER, a fault a test sets directly) may come
    # up to IDLE_TICK late.
    IDLE_AFTER = 0.5
    IDLE_TICK = 0.2

    def _run(self):
        changed_at = time.time()
        while not self._stop.is_set():
            idle = time.time() - changed_at >= self.IDLE_AFTER
            woken = self._wake.wait(max(self.tick, self.IDLE_TICK) if idle else self.tick)
            self._wake.clear()
            if self._stop.is_set():
                break
            before = self._rv_value
            try:
                self.reconcile()
            except Exception:  # keep ticking; the error is visible through last_error
                import traceback
                self.last_error = traceback.format_exc()
            if woken or self._rv_value != before:
                changed_at = time.time()

    last_error = None
    SEED_START_SECONDS = 6.5   # how long the seeded pods took to start (their logs show it)

    def reconcile(self):
        """One pass of every controller (the background thread calls this)."""
        with self._lock:
            now = self.now()
            for d in sorted(self._iter('deployments'), key=lambda o: o['metadata']['name']):
                self._sync_deployment(d, now)
            for rs in list(self._iter('replicasets')):
                self._sync_replicaset(rs, now)
            for sts in sorted(self._iter('statefulsets'), key=lambda o: o['metadata']['name']):
                self._sync_statefulset(sts, now)
            for pod in list(self._iter('pods')):
                self._kubelet(pod, now)
            for rs in list(self._iter('replicasets')):
                self._rs_status(rs, now)
            for sts in list(self._iter('statefulsets')):
                self._sts_status(sts, now)
            for d in list(self._iter('deployments')):
                self._deployment_status(d, now)
            if self._fake_now is None:
                for d in self._iter('deployments'):
                    meta = d['metadata']
                    self._history[(meta['namespace'], meta['name'])].append(
                        (now, (d.get('status') or {}).get('availableReplicas', 0), d['spec'].get('replicas', 1)))
            self.ticks += 1

    # -------------------------------------------------- deployment controller

    def _rs_revision(self, rs):
        try:
            return int((rs['metadata'].get('annotations') or {}).get(REVISION, '0'))
        except ValueError:
            return 0

    def _find_new_rs(self, d, rss):
        want = canonical(strip_hash(d['spec']['template']))
        matches = [rs for rs in rss if canonical(strip_hash(rs['spec']['template'])) == want]
        matches.sort(key=lambda rs: (rs['metadata']['creationTimestamp'], rs['metadata']['name']))
        return matches[0] if matches else None

    def _set_rs(self, rs, **changes):
        new = copy.deepcopy(rs)
        for path, value in changes.items():
            if path == 'replicas':
                before = rs['spec'].get('replicas', 0)
                new['spec']['replicas'] = value
                owner = self._owner(rs, 'Deployment', 'deployments')
                if owner is not None and before != value:
                    self._event('deployments', owner, 'ScalingReplicaSet', 'Scaled %s replica set %s to %d from %d'
                                % ('up' if value > before else 'down', rs['metadata']['name'], value, before),
                                component='deployment-controller')
            elif path == 'annotations':
                new['metadata'].setdefault('annotations', {}).update(value)
        return self._update('replicasets', new, rs)

    def _owner(self, obj, kind, plural):
        ref = next((r for r in obj['metadata'].get('ownerReferences') or [] if r.get('kind') == kind), None)
        if ref is None:
            return None
        found = self._objs.get((plural, obj['metadata'].get('namespace', ''), ref.get('name')))
        return found if found is not None and found['metadata']['uid'] == ref.get('uid') else None

    def _max_surge_unavailable(self, d):
        desired = d['spec'].get('replicas', 1)
        ru = (d['spec'].get('strategy') or {}).get('rollingUpdate') or {}
        surge = resolve_int_or_percent(ru.get('maxSurge', '25%'), desired, True)
        unavailable = resolve_int_or_percent(ru.get('maxUnavailable', '25%'), desired, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, min(unavailable, desired)

    def _sync_deployment(self, d, now):
        ns = d['metadata']['namespace']
        spec = d['spec']
        rss = self._owned('replicasets', d)
        new_rs = self._find_new_rs(d, rss)
        old_rss = [rs for rs in rss if new_rs is None or rs['metadata']['uid'] != new_rs['metadata']['uid']]
        max_old = max([self._rs_revision(rs) for rs in old_rss] or [0])
        desired = spec.get('replicas', 1)
        surge = self._max_surge_unavailable(d)[0]
        strategy = (spec.get('strategy') or {}).get('type', 'RollingUpdate')
        rs_annotations = {DESIRED: str(desired),
                          MAX_REPLICAS: str(desired + (surge if strategy == 'RollingUpdate' else 0))}
        if spec.get('paused'):
            # the controller only scales a paused Deployment (sync, not rolloutRolling): no new ReplicaSet
            self._scale_paused(new_rs, old_rss, desired)
            return
        d_annotations = dict((d['metadata'].get('annotations') or {}))
        progress_reason = None
        if new_rs is None:
            template = copy.deepcopy(spec['template'])
            collision = (d.get('status') or {}).get('collisionCount', 0)
            h = template_hash(template, collision)
            while ('replicasets', ns, '%s-%s' % (d['metadata']['name'], h)) in self._objs:
                collision += 1
                h = template_hash(template, collision)
            template.setdefault('metadata', {}).setdefault('labels', {})[HASH_LABEL] = h
            selector = copy.deepcopy(spec['selector'])
            selector.setdefault('matchLabels', {})[HASH_LABEL] = h
            annotations = {k: v for k, v in d_annotations.items()
                           if k not in (REVISION, REVISION_HISTORY, 'kubectl.kubernetes.io/last-applied-configuration')}
            annotations.update(rs_annotations)
            annotations[REVISION] = str(max_old + 1)
            initial = 0
            if strategy == 'RollingUpdate':
                current = sum(rs['spec'].get('replicas', 0) for rs in old_rss)
                initial = max(0, min(desired + surge - current, desired))
            elif not any(rs['spec'].get('replicas', 0) or (rs.get('status') or {}).get('replicas', 0)
                         for rs in old_rss):
                initial = desired
            rs = {
                'metadata': {
                    'name': '%s-%s' % (d['metadata']['name'], h), 'namespace': ns,
                    'labels': dict(template['metadata']['labels']), 'annotations': annotations,
                    'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'Deployment', 'name': d['metadata']['name'],
                                         'uid': d['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}]},
                'spec': {'replicas': initial, 'minReadySeconds': spec.get('minReadySeconds', 0),
                         'selector': selector, 'template': template}}
            rs['metadata'] = self._new_meta(RESOURCES['replicasets'], ns, rs['metadata'], now)
            self._apply_defaults('replicasets', rs)
            new_rs = self._store('replicasets', rs, 'ADDED')
            if initial:
                self._event('deployments', d, 'ScalingReplicaSet', 'Scaled up replica set %s to %d from 0'
                            % (rs['metadata']['name'], initial), component='deployment-controller')
            progress_reason = ('NewReplicaSetCreated', 'Created new replica set "%s"' % rs['metadata']['name'])
        else:
            annotations = dict(rs_annotations)
            if self._rs_revision(new_rs) <= max_old:
                old_rev = self._rs_revision(new_rs)
                annotations[REVISION] = str(max_old + 1)
                hist = (new_rs['metadata'].get('annotations') or {}).get(REVISION_HISTORY)
                annotations[REVISION_HISTORY] = ','.join(filter(None, [hist, str(old_rev)]))
                progress_reason = ('FoundNewReplicaSet', 'Found new replica set "%s"' % new_rs['metadata']['name'])
            if new_rs['spec'].get('minReadySeconds', 0) != spec.get('minReadySeconds', 0):
                new = copy.deepcopy(new_rs)
                new['spec']['minReadySeconds'] = spec.get('minReadySeconds', 0)
                new_rs = self._update('replicasets', new, new_rs)
            new_rs = self._set_rs(new_rs, annotations=annotations)
        revision = new_rs['metadata']['annotations'][REVISION]
        if d_annotations.get(REVISION) != revision:
            nd = copy.deepcopy(d)
            nd['metadata'].setdefault('annotations', {})[REVISION] = revision
            d = self._update('deployments', nd, d)
        if progress_reason:
            self._set_progressing(d, 'True', progress_reason[0], progress_reason[1], now)
            self._progress[d['metadata']['uid']] = now
        if strategy == 'Recreate':
            self._recreate(d, new_rs, old_rss, desired)
        else:
            self._rolling(d, new_rs, old_rss, desired)
        self._cleanup_history(d, new_rs, old_rss)

    def _scale_paused(self, new_rs, old_rss, desired):
        active = [rs for rs in old_rss + ([new_rs] if new_rs else []) if rs['spec'].get('replicas', 0)]
        target = active[0] if len(active) == 1 else (new_rs if not active else None)
        if target is not None and target['spec'].get('replicas', 0) != desired:
            self._set_rs(target, replicas=desired)

    def _recreate(self, d, new_rs, old_rss, desired):
        active_old = False
        for rs in old_rss:
            if rs['spec'].get('replicas', 0):
                self._set_rs(rs, replicas=0)
                active_old = True
            if self._owned('pods', rs):
                active_old = True
        if not active_old and new_rs['spec'].get('replicas', 0) != desired:
            self._set_rs(new_rs, replicas=desired)

    def _rolling(self, d, new_rs, old_rss, desired):
        surge, unavailable = self._max_surge_unavailable(d)
        # reconcileNewReplicaSet
        new_replicas = new_rs['spec'].get('replicas', 0)
        if new_replicas > desired:
            new_rs = self._set_rs(new_rs, replicas=desired)
        elif new_replicas < desired:
            current = sum(rs['spec'].get('replicas', 0) for rs in old_rss + [new_rs])
            if current < desired + surge:
                up = min(desired + surge - current, desired - new_replicas)
                new_rs = self._set_rs(new_rs, replicas=new_replicas + up)
        # reconcileOldReplicaSets
        old_rss = [self._objs.get(('replicasets', rs['metadata']['namespace'], rs['metadata']['name']), rs)
                   for rs in old_rss]
        if not sum(rs['spec'].get('replicas', 0) for rs in old_rss):
            return
        all_rss = old_rss + [new_rs]
        all_pods = sum(rs['spec'].get('replicas', 0) for rs in all_rss)
        min_available = desired - unavailable
        new_unavailable = new_rs['spec'].get('replicas', 0) - (new_rs.get('status') or {}).get('availableReplicas', 0)
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return
        oldest_first = sorted(old_rss, key=lambda rs: (rs['metadata']['creationTimestamp'], rs['metadata']['name']))
        cleaned = 0
        updated = {}
        for rs in oldest_first:
            if cleaned >= max_scaled_down:
                break
            replicas = rs['spec'].get('replicas', 0)
            available = (rs.get('status') or {}).get('availableReplicas', 0)
            if replicas == 0 or replicas == available:
                continue
            n = min(max_scaled_down - cleaned, replicas - available)
            updated[rs['metadata']['uid']] = self._set_rs(rs, replicas=replicas - n)
            cleaned += n
        oldest_first = [updated.get(rs['metadata']['uid'], rs) for rs in oldest_first]
        all_available = sum((rs.get('status') or {}).get('availableReplicas', 0) for rs in oldest_first + [new_rs])
        remaining = all_available - min_available
        for rs in oldest_first:
            if remaining <= 0:
                break
            replicas = rs['spec'].get('replicas', 0)
            if replicas == 0:
                continue
            n = min(replicas, remaining)
            self._set_rs(rs, replicas=replicas - n)
            remaining -= n

    def _cleanup_history(self, d, new_rs, old_rss):
        limit = d['spec'].get('revisionHistoryLimit', 10)
        idle = [rs for rs in old_rss if rs['spec'].get('replicas', 0) == 0
                and (rs.get('status') or {}).get('replicas', 0) == 0
                and ('replicasets', rs['metadata']['namespace'], rs['metadata']['name']) in self._objs]
        idle.sort(key=self._rs_revision)
        for rs in idle[:max(0, len(idle) - limit)]:
            self._remove('replicasets', rs)

    def _set_progressing(self, d, status, reason, message, now):
        d = self._objs.get(('deployments', d['metadata']['namespace'], d['metadata']['name']), d)
        new = copy.deepcopy(d)
        conds = new.setdefault('status', {}).setdefault('conditions', [])
        cur = next((c for c in conds if c['type'] == 'Progressing'), None)
        cond = {'type': 'Progressing', 'status': status, 'reason': reason, 'message': message,
                'lastUpdateTime': rfc3339(now), 'lastTransitionTime': rfc3339(now)}
        if cur is not None:
            if cur['status'] == status:
                cond['lastTransitionTime'] = cur['lastTransitionTime']
            conds[conds.index(cur)] = cond
        else:
            conds.append(cond)
        return self._update('deployments', new, d)

    def _deployment_status(self, d, now):
        rss = self._owned('replicasets', d)
        new_rs = self._find_new_rs(d, rss)
        desired = d['spec'].get('replicas', 1)
        unavailable = self._max_surge_unavailable(d)[1]
        if (d['spec'].get('strategy') or {}).get('type') == 'Recreate':
            unavailable = 0

        def st(rs, k):
            return (rs.get('status') or {}).get(k, 0)

        total_spec = sum(rs['spec'].get('replicas', 0) for rs in rss)
        available = sum(st(rs, 'availableReplicas') for rs in rss)
        old = d.get('status') or {}
        status = {
            'observedGeneration': d['metadata'].get('generation', 1),
            'replicas': sum(st(rs, 'replicas') for rs in rss),
            'updatedReplicas': st(new_rs, 'replicas') if new_rs else 0,
            'readyReplicas': sum(st(rs, 'readyReplicas') for rs in rss),
            'availableReplicas': available,
            'unavailableReplicas': max(total_spec - available, 0),
        }
        if old.get('collisionCount'):
            status['collisionCount'] = old['collisionCount']
        status = {k: v for k, v in status.items() if v}  # the API omits zero counters
        conds = copy.deepcopy(old.get('conditions') or [])
        avail_cond = next((c for c in conds if c['type'] == 'Available'), None)
        if available >= desired - unavailable:
            want = ('True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        else:
            want = ('False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.')
        if avail_cond is None or (avail_cond['status'], avail_cond['reason']) != want[:2]:
            c = {'type': 'Available', 'status': want[0], 'reason': want[1], 'message': want[2],
                 'lastUpdateTime': rfc3339(now), 'lastTransitionTime': rfc3339(now)}
            if avail_cond is not None and avail_cond['status'] == want[0]:
                c['lastTransitionTime'] = avail_cond['lastTransitionTime']
            conds = [c] + [x for x in conds if x['type'] != 'Available']
        # syncRolloutStatus
        prog = next((c for c in conds if c['type'] == 'Progressing'), None)
        complete_cond = (status.get('replicas', 0) == status.get('updatedReplicas', 0) and prog is not None
                         and prog['reason'] == 'NewReplicaSetAvailable')
        rs_name = new_rs['metadata']['name'] if new_rs else d['metadata']['name']
        uid = d['metadata']['uid']
        new_prog = None
        if d['spec'].get('paused'):
            if prog is None or prog['reason'] != 'DeploymentPaused':
                new_prog = ('Unknown', 'DeploymentPaused', 'Deployment is paused', True)
        elif prog is not None and prog['reason'] == 'DeploymentPaused':
            new_prog = ('Unknown', 'DeploymentResumed', 'Deployment is resumed', True)
            self._progress[uid] = now
        elif not complete_cond:
            if (status.get('updatedReplicas', 0) == desired and status.get('replicas', 0) == desired
                    and available == desired):
                if prog is None or prog['reason'] != 'NewReplicaSetAvailable' or prog['status'] != 'True':
                    new_prog = ('True', 'NewReplicaSetAvailable',
                                'ReplicaSet "%s" has successfully progressed.' % rs_name, True)
            elif (status.get('updatedReplicas', 0) > old.get('updatedReplicas', 0)
                  or (status.get('replicas', 0) - status.get('updatedReplicas', 0))
                  < (old.get('replicas', 0) - old.get('updatedReplicas', 0))
                  or status.get('readyReplicas', 0) > old.get('readyReplicas', 0)
                  or available > old.get('availableReplicas', 0)):
                new_prog = ('True', 'ReplicaSetUpdated', 'ReplicaSet "%s" is progressing.' % rs_name, True)
                self._progress[uid] = now
            elif prog is not None and prog['reason'] != 'ProgressDeadlineExceeded':
                deadline = self.progress_deadline_seconds
                if deadline is None:
                    deadline = d['spec'].get('progressDeadlineSeconds', 600)
                since = self._progress.get(uid)
                if since is None:
                    since = parse_time(prog['lastUpdateTime'])
                if since + float(deadline) < now:
                    new_prog = ('False', 'ProgressDeadlineExceeded',
                                'ReplicaSet "%s" has timed out progressing.' % rs_name, False)
        if new_prog is not None:
            c = {'type': 'Progressing', 'status': new_prog[0], 'reason': new_prog[1], 'message': new_prog[2],
                 'lastUpdateTime': rfc3339(now), 'lastTransitionTime': rfc3339(now)}
            if prog is not None and prog['status'] == new_prog[0]:
                c['lastTransitionTime'] = prog['lastTransitionTime']
            conds = [x for x in conds if x['type'] != 'Progressing'] + [c]
        if conds:
            status['conditions'] = conds
        if canonical(status) != canonical(old):
            new = copy.deepcopy(d)
            new['status'] = status
            self._update('deployments', new, d)

    # -------------------------------------------------- replicaset controller

    def _sync_replicaset(self, rs, now):
        pods = [p for p in self._owned('pods', rs) if not p['metadata'].get('deletionTimestamp') and not terminal(p)]
        want = rs['spec'].get('replicas', 1)
        if len(pods) < want:
            for dummy in range(want - len(pods)):
                pod = self._create_pod_for(rs, now)
                self._event('replicasets', rs, 'SuccessfulCreate', 'Created pod: %s' % pod['metadata']['name'],
                            component='replicaset-controller')
        elif len(pods) > want:
            def rank(p):
                sim = self._sims.get(p['metadata']['uid'])
                ready = self._pod_ready(p)
                running = (p.get('status') or {}).get('phase') == 'Running'
                return (ready, running, -(sim.restart_count(now, self.crash_interval) if sim else 0),
                        -(sim.created if sim else 0))
            for p in sorted(pods, key=rank)[:len(pods) - want]:
                self._delete_pod(p, None)
                self._event('replicasets', rs, 'SuccessfulDelete', 'Deleted pod: %s' % p['metadata']['name'],
                            component='replicaset-controller')

    def _pod_ready(self, pod):
        return any(c.get('type') == 'Ready' and c.get('status') == 'True'
                   for c in (pod.get('status') or {}).get('conditions') or [])

    def _create_pod_for(self, rs, now):
        ns = rs['metadata']['namespace']
        template = copy.deepcopy(rs['spec']['template'])
        tmeta = template.get('metadata') or {}
        while True:
            name = '%s-%s' % (rs['metadata']['name'], random_suffix())
            if ('pods', ns, name) not in self._objs:
                break
        meta = {'name': name, 'generateName': rs['metadata']['name'] + '-', 'namespace': ns,
                'labels': dict(tmeta.get('labels') or {}),
                'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'ReplicaSet', 'name': rs['metadata']['name'],
                                     'uid': rs['metadata']['uid'], 'controller': True, 'blockOwnerDeletion': True}]}
        if tmeta.get('annotations'):
            meta['annotations'] = dict(tmeta['annotations'])
        pod = {'metadata': self._new_meta(RESOURCES['pods'], ns, meta, now), 'spec': template.get('spec') or {}}
        self._apply_defaults('pods', pod)
        self._register_pod(pod, now)
        self._store('pods', pod, 'ADDED')
        self._scheduled_event(pod)
        return pod

    def _register_pod(self, pod, now):
        delay = self.SEED_START_SECONDS if self._fake_now is not None else self.pod_start_delay
        n = next(self._ip_counter)
        sim = PodSim(now, now + delay, '127.1.%d.%d' % (n // 250, n % 250 + 2))
        for c in pod['spec'].get('containers') or []:
            sim.container_ids[c['name']] = hashlib.sha256((pod['metadata']['uid'] + c['name']).encode()).hexdigest()
        ref = next((r for r in pod['metadata'].get('ownerReferences') or [] if r.get('kind') == 'ReplicaSet'), None)
        if ref is not None:
            sim.rs_uid = ref['uid']
            rs = next((r for r in self._iter('replicasets', pod['metadata']['namespace'])
                       if r['metadata']['uid'] == ref['uid']), None)
            if rs is not None:
                dref = next((r for r in rs['metadata'].get('ownerReferences') or []
                             if r.get('kind') == 'Deployment'), None)
                sim.deployment = dref['name'] if dref else None
        sts_ref = next((r for r in pod['metadata'].get('ownerReferences') or [] if r.get('kind') == 'StatefulSet'), None)
        if sts_ref is not None:
            sim.deployment = sts_ref['name']     # the workload: fault targets name it
        pod['spec']['nodeName'] = 'emulator-node-1'
        pod['status'] = {'phase': 'Pending', 'qosClass': self._qos(pod),
                         'conditions': [{'type': 'PodScheduled', 'status': 'True', 'lastProbeTime': None,
                                         'lastTransitionTime': rfc3339(now)}]}
        self._sims[pod['metadata']['uid']] = sim
        return sim

    def _scheduled_event(self, pod):
        self._event('pods', pod, 'Scheduled', 'Successfully assigned %s/%s to emulator-node-1' % (
            pod['metadata']['namespace'], pod['metadata']['name']), component='default-scheduler')

    @staticmethod
    def _qos(pod):
        containers = pod['spec'].get('containers') or []
        if not any((c.get('resources') or {}).get('requests') or (c.get('resources') or {}).get('limits')
                   for c in containers):
            return 'BestEffort'
        guaranteed = all(
            (c.get('resources') or {}).get('limits', {}).get(r) and
            (c.get('resources') or {}).get('requests', {}).get(r, (c.get('resources') or {}).get('limits', {}).get(r))
            == (c.get('resources') or {}).get('limits', {}).get(r)
            for c in containers for r in ('cpu', 'memory'))
        return 'Guaranteed' if guaranteed else 'Burstable'

    def _rs_status(self, rs, now):
        pods = [p for p in self._owned('pods', rs) if not p['metadata'].get('deletionTimestamp') and not terminal(p)]
        min_ready = rs['spec'].get('minReadySeconds', 0) or 0
        ready = [p for p in pods if self._pod_ready(p)]
        available = 0
        for p in ready:
            sim = self._sims.get(p['metadata']['uid'])
            if sim is not None and sim.ready_since is not None and now - sim.ready_since >= min_ready:
                available += 1
        labels_ok = parse_label_selector(selector_to_string({'matchLabels': (rs['spec'].get('template') or {}).get(
            'metadata', {}).get('labels') or {}}))
        status = {'replicas': len(pods),
                  'fullyLabeledReplicas': len([p for p in pods if labels_ok(p['metadata'].get('labels') or {})]),
                  'readyReplicas': len(ready), 'availableReplicas': available,
                  'observedGeneration': rs['metadata'].get('generation', 1)}
        status = {k: v for k, v in status.items() if v or k == 'replicas'}
        if min_ready and len(ready) > available:
            self._wake.set()
        if canonical(status) != canonical(rs.get('status')):
            new = copy.deepcopy(rs)
            new['status'] = status
            self._update('replicasets', new, rs)

    # -------------------------------------------------------------- kubelet

    def _matches(self, targets, pod, sim):
        if not targets:
            return None
        labels = pod['metadata'].get('labels') or {}
        for key in (pod['metadata']['name'], sim.deployment, labels.get('app')):
            if key is not None and key in targets:
                return key
        return None

    def _failing_new(self, pod, sim):
        if sim.deployment is None:
            return False
        healthy = self._fail_new.get((pod['metadata']['namespace'], sim.deployment))
        return healthy is not None and sim.rs_uid not in healthy

    def _kubelet(self, pod, now):
        uid = pod['metadata']['uid']
        sim = self._sims.get(uid)
        if sim is None:
            sim = self._register_pod(copy.deepcopy(pod), now)
        if sim.delete_at is not None and now >= sim.delete_at:
            self._remove('pods', pod)
            return
        if sim.terminal is not None:      # ended: the status stays as the kubelet last wrote it
            return
        images = {c['name']: c.get('image', '') for c in pod['spec'].get('containers') or []}
        name = pod['metadata']['name']
        crash_key = self._matches(self._crash, pod, sim)
        if sim.running_since is None and sim.crash_since is None and now >= sim.start_at:
            sim.running_since = sim.start_at          # first start of the containers
            self._container_events(pod, images)
        if crash_key is not None and sim.running_since is not None and sim.crash_since is None:
            # the container exits with an error and kubelet backs off restarting it
            lines = self._crash[crash_key]
            run_start = sim.running_since
            for c, image in images.items():
                if not sim.started_logged:
                    sim.logs[c] = loglines.startup_lines(image, name, run_start, max(now, run_start))[:-1]
                text = list(lines) if lines is not None else loglines.crash_lines(image, now)
                sim.logs[c] = sim.logs[c] + [(now, line) for line in text]
                sim.prev_logs[c] = list(sim.logs[c])
            sim.started_logged = True
            sim.last_terminated = (run_start, now, 1, 'Error')
            sim.crash_since = now
            sim.running_since = None
            sim.backoff_events = 0
        elif crash_key is None and sim.crash_since is not None:
            # back-off over: a healthy container starts, Ready after the start delay
            restarts = sim.restart_count(now, self.crash_interval)
            sim.last_terminated = self._last_attempt(sim, restarts)
            sim.restart_base = restarts + 1
            sim.crash_since = None
            sim.running_since = now
            sim.start_at = now + (0.0 if self._fake_now is not None else self.pod_start_delay)
            sim.started_logged = False
            for c in images:
                sim.logs[c] = []
            self._container_events(pod, images)
        crashing = sim.crash_since is not None
        if crashing:
            restarts = sim.restart_count(now, self.crash_interval)
            while sim.backoff_events < restarts - sim.restart_base:
                sim.backoff_events += 1
                for c in images:
                    self._event('pods', pod, 'BackOff', 'Back-off restarting failed container %s in pod %s_%s(%s)'
                                % (c, name, pod['metadata']['namespace'], uid), kind='Warning')
        running = sim.running_since is not None and not crashing
        warmed_up = running and now >= sim.start_at
        failing = self._failing_new(pod, sim)
        unready_key = self._matches(self._unready, pod, sim)
        unready = unready_key is not None
        only = self._unready.get(unready_key) if unready else None
        container_ready = {c: warmed_up and not failing and sim.delete_at is None
                           and not (unready and only in (None, c)) for c in images}
        ready = all(container_ready.values())
        if warmed_up and not sim.started_logged:
            for c, image in images.items():
                begin = sim.created if sim.restart_base == 0 else sim.running_since
                sim.logs[c].extend(loglines.startup_lines(image, name, begin, sim.start_at))
            sim.started_logged = True
        if warmed_up and (failing or unready):
            if not sim.unready_logged:
                for c, image in images.items():
                    if failing or only in (None, c):
                        sim.logs[c].extend((now, line) for line in loglines.unready_lines(image, now))
                sim.unready_logged = True
                self._event('pods', pod, 'Unhealthy', 'Readiness probe failed: %s' % self._probe_failure(pod),
                            kind='Warning')
        else:
            sim.unready_logged = False
        if ready:
            if sim.ready_since is None:
                sim.ready_since = now
        else:
            sim.ready_since = None
        status = self._pod_status(pod, sim, now, running, container_ready, crashing, images)
        if canonical(status) != canonical(pod.get('status')):
            new = copy.deepcopy(pod)
            new['status'] = status
            self._update('pods', new, pod)

    def _last_attempt(self, sim, restart):
        """The last crashed container instance: each back-off restart ran briefly and exited again."""
        n = restart - sim.restart_base - 1
        if n <= 0:
            return sim.last_terminated
        fin = sim.crash_since + n * self.crash_interval
        return (fin - min(self.crash_interval / 2, 1.0), fin, 1, 'Error')

    def _container_events(self, pod, images):
        for c, image in images.items():
            self._event('pods', pod, 'Pulled', 'Container image "%s" already present on machine' % image)
            self._event('pods', pod, 'Created', 'Created container %s' % c)
            self._event('pods', pod, 'Started', 'Started container %s' % c)

    @staticmethod
    def _probe_failure(pod):
        probe = ((pod['spec'].get('containers') or [{}])[0]).get('readinessProbe') or {}
        if probe.get('httpGet'):
            return 'HTTP probe failed with statuscode: 503'
        if probe.get('exec'):
            return 'command %s exited with 1' % json.dumps(probe['exec'].get('command'))
        return 'dial tcp %s: connect: connection refused' % '127.0.0.1'

    def _pod_status(self, pod, sim, now, running, container_ready, crashing, images):
        ready = all(container_ready.values())
        old = pod.get('status') or {}
        old_conds = {c['type']: c for c in old.get('conditions') or []}

        def cond(kind, ok, reason=None, message=None):
            c = {'type': kind, 'status': 'True' if ok else 'False', 'lastProbeTime': None}
            prev = old_conds.get(kind)
            c['lastTransitionTime'] = prev['lastTransitionTime'] if prev and prev['status'] == c['status'] \
                else rfc3339(now)
            if not ok and reason:
                c['reason'], c['message'] = reason, message
            return c

        phase = 'Running' if (running or crashing) else 'Pending'
        unready_msg = 'containers with unready status: [%s]' % ' '.join(
            c for c in images if not container_ready[c])
        restart = sim.restart_count(now, self.crash_interval)
        meta = pod['metadata']
        statuses = []
        for c, image in images.items():
            cs = {'name': c, 'image': image, 'imageID': '', 'ready': container_ready[c], 'restartCount': restart,
                  'started': running, 'lastState': {}}
            if phase == 'Running':
                cs['imageID'] = 'docker.io/%s@sha256:%s' % (image.split(':')[0], hashlib.sha256(
                    image.encode()).hexdigest())
                cs['containerID'] = 'containerd://' + hashlib.sha256(
                    ('%s%s%d' % (sim.container_ids.get(c, ''), c, restart)).encode()).hexdigest()
            if crashing:
                back = min(10 * (2 ** max(restart - 1, 0)), 300)
                cs['state'] = {'waiting': {'reason': 'CrashLoopBackOff', 'message':
                               'back-off %ds restarting failed container=%s pod=%s_%s(%s)' % (
                                   back, c, meta['name'], meta['namespace'], meta['uid'])}}
            elif running:
                cs['state'] = {'running': {'startedAt': rfc3339(sim.running_since)}}
            else:
                cs['state'] = {'waiting': {'reason': 'ContainerCreating'}}
            if sim.last_terminated:
                st, fin, code, reason = self._last_attempt(sim, restart) if crashing else sim.last_terminated
                previous_id = 'containerd://' + hashlib.sha256(
                    ('%s%s%d' % (sim.container_ids.get(c, ''), c, restart - 1)).encode()).hexdigest()
                cs['lastState'] = {'terminated': {'exitCode': code, 'reason': reason, 'startedAt': rfc3339(st),
                                                  'finishedAt': rfc3339(fin), 'containerID': previous_id}}
            statuses.append(cs)
        status = {
            'phase': phase,
            'conditions': [
                cond('PodReadyToStartContainers', phase == 'Running'),
                cond('Initialized', True),
                cond('Ready', ready, 'ContainersNotReady', unready_msg),
                cond('ContainersReady', ready, 'ContainersNotReady', unready_msg),
                cond('PodScheduled', True),
            ],
            'hostIP': '127.0.0.1', 'hostIPs': [{'ip': '127.0.0.1'}],
            'startTime': rfc3339(sim.created),
            'containerStatuses': statuses,
            'qosClass': old.get('qosClass') or self._qos(pod),
        }
        if phase == 'Running':
            status['podIP'] = sim.ip
            status['podIPs'] = [{'ip': sim.ip}]
        return status

    # -------------------------------------------------------------- seeding

    def _seed(self):
        with self._lock:
            self._fake_now = time.time() - 3600
            try:
                for ns in ('default', 'kube-system', self.namespace):
                    self.api_create('namespaces', None, {'metadata': {'name': ns}})
                self.api_create('secrets', self.namespace, {
                    'metadata': {'name': SECRET_NAME, 'labels': {'app.kubernetes.io/part-of': 'quickbite'}},
                    'type': 'Opaque',
                    'data': {k: base64.b64encode(str(v).encode()).decode() for k, v in self.secret_values.items()}})
                from .seed import seed_workloads
                for plural, body in seed_workloads(self.seed_statefulsets, self.seed_sidecars):
                    self.api_create(plural, self.namespace, body)
                from .ingresses import seed_ingress
                self.api_create('ingresses', self.namespace, seed_ingress())
                self._seed_auth()
                for dummy in range(8):  # pods need SEED_START_SECONDS of emulated time to start
                    self.reconcile()
                    self._fake_now += 2
                for ev in list(self._iter('events')):  # older than the 1 h event TTL
                    self._objs.pop(('events', ev['metadata']['namespace'], ev['metadata']['name']), None)
            finally:
                self._fake_now = None
            self._history.clear()

    # ------------------------------------------------- fault injection / tests

    def reset(self):
        """Back to the seed: objects, logs, faults and availability history."""
        with self._lock:
            for w in list(self._watchers):
                w.close()
            self._watchers = []
            self._init_state()
            self.set_hang(on=False)
            with self._hang_changed:
                self._hangs = []
            if self.seed_enabled:
                self._seed()
            self._wake.set()

    def set_crashloop(self, target, on=True, log_lines=None):
        """Pods of deployment / app label / pod name ``target`` crash-loop:
        not Ready, waiting CrashLoopBackOff, restartCount rising every
        ``crash_interval`` seconds, ``log_lines`` (or a default error) in the
        current and previous container logs.  Turning it off restarts them
        healthy (Ready after ``pod_start_delay``)."""
        with self._lock:
            if on:
                self._crash[target] = list(log_lines) if log_lines is not None else None
            else:
                self._crash.pop(target, None)
            self._wake.set()

    def set_unready(self, app_label, on=True, container=None):
        """Pods with label ``app=<app_label>`` (or that deployment / pod name)
        keep running but fail their readiness probe (Ready False); with
        ``container`` only that container is not ready (the pod is not Ready
        either, as the kubelet judges it)."""
        with self._lock:
            if on:
                self._unready[app_label] = container
            else:
                self._unready.pop(app_label, None)
            self._wake.set()

    def fail_new_pods(self, deployment, on=True, namespace=None):
        """Pods of every ReplicaSet of ``deployment`` created from now on run
        but never become Ready (as with a broken new image), so a rollout
        stalls and ends in ProgressDeadlineExceeded.  Pods of the
        ReplicaSets that exist now (i.e. a rollback) stay healthy.  Off heals
        the failing pods."""
        ns = namespace or self.namespace
        with self._lock:
            if on:
                d = self._objs.get(('deployments', ns, deployment))
                rss = self._owned('replicasets', d) if d else []
                self._fail_new[(ns, deployment)] = {rs['metadata']['uid'] for rs in rss}
            else:
                self._fail_new.pop((ns, deployment), None)
            self._wake.set()

    def set_progress_deadline(self, seconds):
        """Override every Deployment's progressDeadlineSeconds (None: use the spec)."""
        with self._lock:
            self.progress_deadline_seconds = seconds

    def availability_history(self, deployment, namespace=None):
        """[(epoch_time, availableReplicas, spec.replicas)], one per controller tick."""
        with self._lock:
            return list(self._history.get((namespace or self.namespace, deployment), []))

    def clear_history(self, deployment=None, namespace=None):
        with self._lock:
            if deployment is None:
                self._history.clear()
            else:
                self._history.pop((namespace or self.namespace, deployment), None)

    def _pods_for(self, target, namespace=None):
        ns = namespace or self.namespace
        pods = []
        for p in self._iter('pods', ns):
            sim = self._sims.get(p['metadata']['uid'])
            if p['metadata']['name'] == target or (sim and sim.deployment == target) or \
                    (p['metadata'].get('labels') or {}).get('app') == target:
                pods.append((p, sim))
        if not pods:
            raise KeyError('no pod matches %r in namespace %s' % (target, ns))
        return pods

    def append_log(self, target, lines, container=None, namespace=None):
        """Append ``lines`` (timestamped now) to the current log of pod
        ``target`` or of every pod of deployment / app label ``target``."""
        with self._lock:
            now = self.now()
            for pod, sim in self._pods_for(target, namespace):
                for c in ([container] if container else [x['name'] for x in pod['spec']['containers']]):
                    sim.logs[c].extend((now, line) for line in lines)

    def set_previous_log(self, target, lines, container=None, namespace=None):
        """Set the log of the previous (terminated) container, served for
        ``previous=true``; without it such a request fails with 400 as in
        real Kubernetes."""
        with self._lock:
            now = self.now()
            for pod, sim in self._pods_for(target, namespace):
                for c in ([container] if container else [x['name'] for x in pod['spec']['containers']]):
                    sim.prev_logs[c] = [(now - 1, line) for line in lines]

    def set_exec_backend(self, target, argv_prefix):
        """Exec in pods of ``target`` (pod, Deployment or app label) runs
        ``argv_prefix + command`` on this host; None removes it."""
        with self._lock:
            if argv_prefix is None:
                self.exec_backends.pop(target, None)
            else:
                self.exec_backends[target] = list(argv_prefix)

    def exec_backend(self, namespace, name, container=None):
        """(container, argv prefix or None) for an exec in pod ``name``;
        ApiError where the API server refuses the upgrade."""
        with self._lock:
            pod, container = self._pod_container(namespace, name, container)
            if terminal(pod):
                raise ApiError(400, 'BadRequest', 'cannot exec into a container in a completed pod; current phase is '
                               '%s' % pod['status']['phase'])
            statuses = {cs['name']: cs for cs in (pod.get('status') or {}).get('containerStatuses') or []}
            if 'running' not in ((statuses.get(container) or {}).get('state') or {}):
                raise ApiError(400, 'BadRequest', 'unable to upgrade connection: container not found ("%s")'
                               % container)
            sim = self._sims.get(pod['metadata']['uid'])
            key = self._matches(self.exec_backends, pod, sim) if sim else (
                name if name in self.exec_backends else None)
            return container, (list(self.exec_backends[key]) if key is not None else None)

    def get(self, plural, name, namespace=None):
        """A copy of one object (None when absent)."""
        with self._lock:
            obj = self._objs.get((plural, '' if not RESOURCES[plural].namespaced else namespace or self.namespace,
                                  name))
            return self._out(plural, obj) if obj else None

    def list(self, plural, namespace=None, label_selector=None):
        return self.api_list(plural, namespace or self.namespace, label_selector)['items']

    def rollout_complete(self, deployment, namespace=None):
        """kubectl rollout status's success rule, evaluated on the stored Deployment."""
        with self._lock:
            d = self._objs.get(('deployments', namespace or self.namespace, deployment))
            if d is None:
                return False
            st = d.get('status') or {}
            want = d['spec'].get('replicas', 1)
            return (st.get('observedGeneration', 0) >= d['metadata'].get('generation', 1)
                    and st.get('updatedReplicas', 0) == want and st.get('replicas', 0) == want
                    and st.get('availableReplicas', 0) == want)

    def wait_rollout(self, deployment, timeout=10.0, namespace=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.rollout_complete(deployment, namespace):
                return True
            time.sleep(self.tick / 2)
        raise TimeoutError('deployment %s did not complete its rollout within %ss' % (deployment, timeout))

    def summary(self):
        """A compact view of deployments, replica sets and pods (for debugging)."""
        with self._lock:
            out = {}
            for d in self._iter('deployments'):
                meta = d['metadata']
                out[meta['name']] = {
                    'generation': meta.get('generation'), 'revision': (meta.get('annotations') or {}).get(REVISION),
                    'status': {k: v for k, v in (d.get('status') or {}).items() if k != 'conditions'},
                    'conditions': {c['type']: c['reason'] for c in (d.get('status') or {}).get('conditions') or []},
                    'replicasets': {rs['metadata']['name']: [rs['spec'].get('replicas'), self._rs_revision(rs)]
                                    for rs in self._owned('replicasets', d)},
                    'pods': {p['metadata']['name']: [p['status'].get('phase'), self._pod_ready(p)]
                             for rs in self._owned('replicasets', d) for p in self._owned('pods', rs)},
                }
            return out
