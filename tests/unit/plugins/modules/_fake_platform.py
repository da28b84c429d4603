"""The platform a module's case table describes (``platform:``), behind the
adapter interface: an in-memory stand-in for the Compose or Kubernetes
adapter that records every change it is asked for. See _harness.py."""
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import base
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import LockedError

from tests.unit.fakes import MemoryStore

SERVICES = ('backend', 'frontend', 'postgres', 'redis')


# --------------------------------------------------------------------------- platform
class FakeAdapter(base.Adapter):
    """The platform as the table describes it. ``platform:`` keys:
    services ({name: {replicas, ready, image, image_id, revision, pinned,
    config_changed, state, logs, resources, wait_fails}}), config, store,
    history ({service: [{image, image_id} or {revision, image}]}),
    locked_by (a holder: lock() refuses), fail ({method: message}),
    alert_rules ({name: rule groups}), alert_routing ({name: AlertmanagerConfig
    spec}), exec ({service: {program: [exit code, stdout, stderr]}}), addresses ({service: [[host, port]]}), ingresses ({name: annotations}, where
    has_ingress), nginx (the frontend's nginx, FakeNginx: {conf: the host
    file its container reads as /etc/nginx/nginx.conf, test_fails: nginx -t's
    error once that file changed})."""

    RECORDED = ('set_config', 'restart', 'restart_stack', 'delete_replica', 'scale', 'set_resources', 'rollback',
                'unpin', 'stop', 'start', 'wait', 'lock', 'write_alert_rules', 'write_alert_routing',
                'set_ingress_annotations', 'nginx_reload')

    def __init__(self, world):
        spec = world.get('platform') or {}
        self.calls = []
        self.backend = None
        services = spec.get('services')
        if services is None:
            services = dict((name, {}) for name in SERVICES)
        self.state = {}
        for name, given in services.items():
            entry = dict(replicas=1, image='quickbite/%s:1' % name, image_id='sha256:%s1' % name, revision=None,
                         pinned=None, config_changed=False, state='running', logs=[], wait_fails=None)
            if self.platform == 'k8s':
                entry['revision'] = '1'
            entry.update(given or {})
            entry.setdefault('ready', entry['replicas'] if entry['state'] == 'running' else 0)
            self.state[name] = entry
        self.config = dict(spec.get('config') or {})
        self.history_ = dict(spec.get('history') or {})
        self.fail = dict(spec.get('fail') or {})
        self.locked_by = spec.get('locked_by')
        self.alert_rules = dict(spec.get('alert_rules') or {})  # {name: rule groups} where stores_alert_rules
        self.alert_routing = dict(spec.get('alert_routing') or {})  # {name: spec} where stores_alert_routing
        self.ingresses_ = dict((name, dict(annotations or {})) for name, annotations in
                               (spec.get('ingresses') or {}).items())
        self.nginx = FakeNginx(self, spec['nginx']) if spec.get('nginx') else None
        self.execs = dict(spec.get('exec') or {})  # {service: {program: [exit code, stdout, stderr]}}
        self.addresses = dict(spec.get('addresses') or {})  # {service: [[host, port]]}
        self.memory = MemoryStore()
        for key, value in (spec.get('store') or {}).items():
            self.memory.save(key, value)

    # -- recording
    def _record(self, *call):
        self.calls.append(list(call))
        message = self.fail.get(call[0])
        if message:
            raise PlatformError(message)

    def _known(self, service):
        if service not in self.state:
            raise NotFoundError('service %s not found in %s' % (service, self.describe()))
        return self.state[service]

    # -- reading
    def describe(self):
        return 'compose project in /opt/quickbite' if self.platform == 'compose' else 'namespace quickbite'

    def target_name(self):
        return 'quickbite'

    def stack_restart_effect(self):
        if self.platform == 'compose':
            return 'takes every service of compose project quickbite down and up again (QuickBite is down meanwhile)'
        return 'restarts every Deployment of namespace quickbite'

    def exec_spawn(self, service, user=None):
        if service == 'frontend' and self.nginx is not None:
            return self.nginx.spawn
        if service in self.execs:
            return self._scripted(service)
        raise ConfigError('quickbite_db_access exec is not available in these tests')

    def ingresses(self):
        return [dict(name=name, annotations=dict(annotations), paths=[dict(host='*', path='/ws', service='backend',
                                                                           port=8080)])
                for name, annotations in sorted(self.ingresses_.items())]

    def set_ingress_annotations(self, name, annotations):
        if not getattr(self, 'has_ingress', self.platform == 'k8s'):
            raise PlatformError('%s has no Ingress %s to annotate (has_ingress is false)' % (self.describe(), name))
        if name not in self.ingresses_:
            raise NotFoundError('ingress %s not found in %s' % (name, self.describe()))
        self._record('set_ingress_annotations', name, dict(annotations))
        before = dict(self.ingresses_[name])
        self.ingresses_[name].update(annotations)
        return before

    def _scripted(self, service):
        """exec in ``service`` answering each program as ``exec:`` says (127: not found)."""
        def spawn(argv, stdin, stdout, stderr, env=None):
            code, out, err = (self.execs[service].get(argv[0]) or [127, '', '%s: not found' % argv[0]])[:3]
            stdout.write(out.encode('utf-8'))
            stderr.write(err.encode('utf-8'))
            return _Done(code)
        return spawn

    def incident_state(self, names=None):
        """base.Adapter's, with ``services.<name>.oom_killed`` (true: every
        replica's last end was an OOM kill, exit 137)."""
        state = base.Adapter.incident_state(self, names)
        for svc in state['services']:
            if self.state[svc['name']].get('oom_killed'):
                for rep in svc['replicas']:
                    rep.update(oom_killed=True, exit_code=137, last_reason='OOMKilled')
        return state

    def runtime_env(self, service):
        """``services.<name>.env``, by default the configuration (the backend's
        env file), for a service with a replica (running or exited)."""
        entry = self._known(service)
        if not entry['replicas'] and 'env' not in entry:
            return dict(replica=None, env={}, origins={})
        env = dict(entry['env'] if 'env' in entry else self.config)
        return dict(replica='%s-1' % service, env=env, origins=dict((k, 'env') for k in env), state=entry['state'])

    def service_addresses(self, service, port):
        given = self.addresses.get(service)
        if given is not None:
            return [(host, int(p)) for host, p in given]
        return [('127.0.0.1', int(port)), ('localhost', int(port))]

    def service_names(self):
        return list(self.state)

    def deployment_name(self, service):
        return base.DEFAULT_DEPLOYMENTS.get(service, service)

    def _service(self, name):
        entry = self._known(name)
        replicas = []
        for index in range(max(entry['replicas'], 1 if entry['state'] != 'running' else 0)):
            ready = index < entry['ready']
            replicas.append(base.replica('%s-%d' % (name, index + 1), entry['state'] if not ready or
                                         entry['state'] != 'running' else 'running', ready,
                                         health='healthy' if ready else 'unhealthy', image=entry['image'],
                                         exit_code=1 if entry['state'] == 'exited' else None))
        desired = entry['replicas'] if self.platform == 'k8s' else None
        return base.judge_service(name, self.deployment_name(name), desired, replicas)

    def services(self, names=None, detail=True):
        return [self._service(name) for name in (names or list(self.state))]

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        if selector:
            return [dict(source='%s-1' % name, lines=list(entry['logs'])) for name, entry in self.state.items()
                    if entry.get('labels') and selector in entry['labels']]
        entry = self._known(service)
        previous = previous and getattr(self, 'has_previous_log', self.platform == 'k8s')
        if previous and not entry.get('previous_logs'):
            raise PlatformError('%s-1 has no previous container' % service)
        lines = list(entry.get('previous_logs') if previous else entry['logs'])
        return [dict(source='%s-1' % service, lines=lines[-tail:] if tail else lines)] if lines or entry['replicas'] \
            else []

    def workload(self, service):
        entry = self._known(service)
        return dict(service=service, image=entry['image'], image_id=entry['image_id'], revision=entry['revision'],
                    replicas=entry['replicas'], ready=entry['ready'], config_changed=entry['config_changed'],
                    pinned=entry['pinned'])

    def history(self, service):
        return list(self.history_.get(service, []))

    def get_config(self, key):
        if 'get_config' in self.fail:
            raise PlatformError(self.fail['get_config'])
        return self.config.get(key)

    def config_items(self):
        if 'config_items' in self.fail:
            raise PlatformError(self.fail['config_items'])
        return dict(self.config)

    def check_config(self, key, value):
        if '\n' in value or '\r' in value:
            raise ConfigError('%s cannot hold a line break in %s' % (key, self.describe()))

    def store(self):
        return self.memory

    def lock(self, procedure, ttl=3600):
        self._record('lock', procedure)
        if self.locked_by:
            raise LockedError('refusing to %s: another run holds the lock of %s: %s; nothing was changed'
                              % (procedure, self.describe(), self.locked_by))
        return _Free()

    def container_resources(self, service, container=None):
        if self.platform == 'compose':
            return base.Adapter.container_resources(self, service, container)
        entry = self._known(service)
        return container or service, dict(entry.get('resources') or {})

    def rollback_target(self, service, to=None):
        entry = self._known(service)
        history = self.history(service)
        key = 'revision' if self.platform == 'k8s' else 'image_id'
        current = entry['revision'] if self.platform == 'k8s' else entry['image_id']
        if to is not None:
            found = [h for h in history if str(h.get(key)) == str(to) or h.get('image') == to]
        else:
            found = [h for h in history if str(h.get(key)) != str(current)][-1:]
        if not found:
            raise NotFoundError('no recorded %s of %s to roll back to%s' % (
                'revision' if self.platform == 'k8s' else 'image', service, ' matching %s' % to if to else ''))
        target = found[-1]
        label = 'revision %s' % target['revision'] if self.platform == 'k8s' else target['image']
        return dict(target=target, label=label, changes=str(target.get(key)) != str(current))

    # -- changing
    def set_config(self, key, value):
        self._record('set_config', key)
        self.config[key] = value

    def read_alert_rules(self, name):
        return self.alert_rules.get(name)

    def write_alert_rules(self, name, groups, labels):
        self._record('write_alert_rules', name)
        self.alert_rules[name] = groups

    def read_alert_routing(self, name):
        if not self.stores_alert_routing:
            raise ConfigError('%s keeps no Alertmanager routing object' % self.describe())
        return self.alert_routing.get(name)

    def write_alert_routing(self, name, spec, labels):
        if not self.stores_alert_routing:
            raise ConfigError('%s keeps no Alertmanager routing object' % self.describe())
        self._record('write_alert_routing', name)
        self.alert_routing[name] = spec

    def restart(self, service, recreate=False):
        before = self.workload(service)
        self._record('restart', service, 'recreate' if recreate else 'restart')
        if self.platform == 'k8s':
            self.state[service]['revision'] = str(int(self.state[service]['revision']) + 1)
        if service == 'backend' and self.backend is not None:
            self.backend.restarted(self.config)
        return before

    def restart_stack(self):
        if not getattr(self, 'restarts_whole_stack', self.platform == 'compose'):
            return base.Adapter.restart_stack(self)
        before = dict((name, self.workload(name)) for name in self.state)
        self._record('restart_stack')
        if self.backend is not None:
            self.backend.restarted(self.config)
        return before

    def delete_replica(self, name):
        for service, entry in self.state.items():
            if name in ['%s-%d' % (service, i + 1) for i in range(entry['replicas'])]:
                self._record('delete_replica', name)
                return service, [] if self.platform == 'compose' else [name]
        raise NotFoundError('no container or pod named %s in %s' % (name, self.describe()))

    def scale(self, service, replicas):
        before = self.workload(service)
        self._record('scale', service, replicas)
        self.state[service].update(replicas=replicas, ready=replicas)
        return before

    def set_resources(self, service, container, resources):
        self._record('set_resources', service, container)
        self.state[service]['resources'] = resources

    def rollback(self, service, target):
        self._record('rollback', service)
        entry = self.state[service]
        for key in ('image', 'image_id', 'revision'):
            if target['target'].get(key) is not None:
                entry[key] = target['target'][key]

    def unpin(self, service):
        if not getattr(self, 'pins_images', self.platform == 'compose'):
            return base.Adapter.unpin(self, service)
        before = self.workload(service)
        self._record('unpin', service)
        self.state[service]['pinned'] = None
        return before

    def stop(self, service):
        self._record('stop', service)
        entry = self.state[service]
        token = dict(replicas=entry['replicas'])
        entry.update(replicas=0, ready=0)
        return token

    def start(self, service, token):
        self._record('start', service)
        self.state[service].update(replicas=token['replicas'], ready=token['replicas'])

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None):
        self._record('wait', service)
        entry = self.state[service]
        if entry['wait_fails']:
            raise self.timeout_error(service, 'become ready', timeout, [entry['wait_fails']], None)
        return self._service(service)


class FakeNginx(object):
    """The frontend container's nginx over the host file ``conf`` (what a
    Compose bind mount gives it): ``nginx -T`` dumps it, ``nginx -t`` passes
    unless ``test_fails`` is set and the file changed since the case began,
    ``nginx -s reload`` is recorded as the change nginx_reload."""

    def __init__(self, adapter, spec):
        self.adapter = adapter
        self.conf = spec['conf']
        self.test_fails = spec.get('test_fails')
        self.original = None

    def _text(self):
        with open(self.conf) as handle:
            return handle.read()

    def spawn(self, argv, stdin, stdout, stderr, env=None):
        if self.original is None:
            self.original = self._text()
        code, out, err = 0, '', ''
        if argv[:2] == ['nginx', '-T']:
            out = '# configuration file /etc/nginx/nginx.conf:\n%s\n' % self._text()
        elif argv[:2] == ['nginx', '-t']:
            if self.test_fails and self._text() != self.original:
                code, err = 1, self.test_fails
            else:
                err = ('nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n'
                       'nginx: configuration file /etc/nginx/nginx.conf test is successful\n')
        elif argv[:3] == ['nginx', '-s', 'reload']:
            self.adapter._record('nginx_reload', 'frontend')
        else:
            code, err = 127, '%s: not emulated' % argv[0]
        stdout.write(out.encode('utf-8'))
        stderr.write(err.encode('utf-8'))
        return _Done(code)


class _Done(object):
    def __init__(self, code):
        self.returncode = code

    def wait(self, timeout=None):
        return self.returncode

    def kill(self):
        pass


def real_class(kind):
    if kind == 'compose':
        from ansible_collections.quickbite.ops.plugins.module_utils.platform.compose import ComposeAdapter
        return ComposeAdapter
    from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter
    return KubernetesAdapter


_CLASSES = {}


def make_adapter(world, kind):
    """A FakeAdapter declaring the capabilities (plain class attributes:
    platform, rolling_restart...) the real adapter of ``kind`` declares."""
    kind = (world.get('platform') or {}).get('kind', kind)
    if kind not in _CLASSES:
        real = real_class(kind)
        declared = dict((name, value) for name, value in vars(real).items()
                        if not name.startswith('_') and isinstance(value, (bool, str)))
        _CLASSES[kind] = type('Fake%sAdapter' % real.__name__, (FakeAdapter,), declared)
    return _CLASSES[kind](world)


class _Free(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
