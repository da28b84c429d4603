"""Stand-ins for unit tests: an AnsibleModule that replays recorded command
output, an adapter's state store in memory, a lock that is always free, and
FakeAdapter, which implements every abstract method of base.Adapter."""
import json

from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import Adapter, StateStore


class FakeModule(object):

    def __init__(self, params=None, replies=None):
        self.params = params or {}
        # [(argv suffix tuple, (rc, out, err))]: first match wins, in order.
        self.replies = list(replies or [])
        self.calls = []
        self.no_log_values = set()

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name

    def run_command(self, argv, cwd=None, **kwargs):
        self.calls.append(list(argv))
        for suffix, reply in self.replies:
            if tuple(argv[-len(suffix):]) == tuple(suffix):
                return reply
        raise AssertionError('unexpected command %r' % (argv,))

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs)


class MemoryStore(StateStore):
    """An adapter's store() in memory (load/save/delete of JSON documents)."""

    def __init__(self):
        self.data = {}

    def load(self, name):
        return json.loads(self.data[name]) if name in self.data else None

    def save(self, name, data):
        self.data[name] = json.dumps(data)

    def delete(self, name):
        self.data.pop(name, None)


class FreeLock(object):
    """An adapter's lock() that is always free."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# The capabilities of the two real adapters (test_interface.py holds them to
# compose.py and kubernetes.py); ``effect`` words a whole-stack restart.
COMPOSE = dict(platform='compose', rolling_restart=False, restarts_whole_stack=True, has_rollout_history=False,
               pins_images=True, has_previous_log=False, has_label_selectors=False, target_kind='project name',
               has_ingress=False,
               effect='takes every service of compose project %s down and up again (QuickBite is down meanwhile)')
K8S = dict(platform='k8s', rolling_restart=True, restarts_whole_stack=False, has_rollout_history=True,
           pins_images=False, has_previous_log=True, has_label_selectors=True, target_kind='namespace', has_ingress=True,
           effect='restarts every Deployment of namespace %s')


class FakeAdapter(Adapter):
    """base.Adapter in memory: configuration in ``self.config``, a
    MemoryStore, a FreeLock, Compose's capabilities unless the keyword
    arguments give others (``FakeAdapter(**K8S)``). Every other operation
    fails the test naming the call: a test overrides the ones it expects."""

    platform = COMPOSE['platform']
    rolling_restart = COMPOSE['rolling_restart']
    restarts_whole_stack = COMPOSE['restarts_whole_stack']
    has_rollout_history = COMPOSE['has_rollout_history']
    pins_images = COMPOSE['pins_images']
    has_previous_log = COMPOSE['has_previous_log']
    has_label_selectors = COMPOSE['has_label_selectors']
    target_kind = COMPOSE['target_kind']
    has_ingress = COMPOSE['has_ingress']
    effect = COMPOSE['effect']
    config = {}

    def __init__(self, config=None, **capabilities):
        if config is not None:
            self.config = dict(config)
        for name, value in capabilities.items():
            if name not in COMPOSE:
                raise TypeError('FakeAdapter has no capability %s' % name)
            setattr(self, name, value)
        self._store = MemoryStore()
        self.calls = []

    def describe(self):
        return 'test target'

    def target_name(self):
        return 'quickbite'

    def stack_restart_effect(self):
        return self.effect % self.target_name()

    def lock(self, procedure, ttl=3600):
        return FreeLock()

    def store(self):
        return self._store

    def get_config(self, key):
        return self.config.get(key)

    def config_items(self):
        return dict(self.config)

    def set_config(self, key, value):
        self.config[key] = value

    def _unexpected(self, name, *args):
        raise AssertionError('unexpected call FakeAdapter.%s%r: override it in the test that expects it' % (name, args))

    def service_names(self):
        return self._unexpected('service_names')

    def services(self, names=None, detail=True):
        return self._unexpected('services', names, detail)

    def workload(self, service):
        return self._unexpected('workload', service)

    def logs(self, service, tail=100, since=None, previous=False, selector=None):
        return self._unexpected('logs', service, tail, since, previous, selector)

    def history(self, service):
        return self._unexpected('history', service)

    def restart(self, service, recreate=False):
        return self._unexpected('restart', service, recreate)

    def delete_replica(self, name):
        return self._unexpected('delete_replica', name)

    def scale(self, service, replicas):
        return self._unexpected('scale', service, replicas)

    def stop(self, service):
        return self._unexpected('stop', service)

    def start(self, service, token):
        return self._unexpected('start', service, token)

    def exec_spawn(self, service, user=None):
        return self._unexpected('exec_spawn', service, user)

    def ingresses(self):
        return self._unexpected('ingresses')

    def set_ingress_annotations(self, name, annotations):
        return self._unexpected('set_ingress_annotations', name, annotations)

    def read_alert_routing(self, name):
        return self._unexpected('read_alert_routing', name)

    def write_alert_routing(self, name, spec, labels):
        return self._unexpected('write_alert_routing', name, spec, labels)

    def runtime_env(self, service):
        return self._unexpected('runtime_env', service)

    def service_addresses(self, service, port):
        return self._unexpected('service_addresses', service, port)

    def rollback_target(self, service, to=None):
        return self._unexpected('rollback_target', service, to)

    def rollback(self, service, target):
        return self._unexpected('rollback', service, target)

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None):
        return self._unexpected('wait', service, timeout)
