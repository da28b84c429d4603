"""A stand-in for AnsibleModule that replays recorded command output."""


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
