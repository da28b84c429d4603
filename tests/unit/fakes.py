"""Stand-ins for unit tests: an AnsibleModule that replays recorded command
output, an adapter's state store in memory and a lock that is always free."""
import json


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


class MemoryStore(object):
    """An adapter's store() in memory (load/save/delete of JSON documents)."""

    def __init__(self):
        self.data = {}

    def load(self, name):
        return json.loads(self.data[name]) if name in self.data else None

    def save(self, name, value):
        self.data[name] = json.dumps(value)

    def delete(self, name):
        self.data.pop(name, None)


class FreeLock(object):
    """An adapter's lock() that is always free."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
