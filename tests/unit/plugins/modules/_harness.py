"""Case tables for the modules' main() (issue 11, item 8), after
community.general's ``test_xfconf.yaml``: one YAML file per module, each case
the module arguments, the world the module meets (platform, backend, database,
files), the calls the fakes must be asked, in order, and the result or the
refusal. ``test_module_cases.py`` turns every table into tests.

The fakes sit at the boundaries only, so the tables test behaviour and stay
valid while the layers in between are reshaped:

- the platform adapter (``factory.get_adapter``, wherever a module imported
  it from): FakeAdapter, an in-memory platform that records every change;
- HTTP (``_http.request``): FakeBackend, a QuickBite backend whose actuator,
  webhook signatures and JWT tokens follow the environment it was last
  restarted with;
- PostgreSQL (``psycopg2.connect``, and ``flyway.table`` for the history
  table's SQL): FakePostgres;
- time: sleeps advance a clock instead of waiting.

main() runs for real (AnsibleModule, argument spec, no_log masking); its
printed JSON is the result, so ``no secret in the result`` is checked on what
Ansible would receive.

Case keys: id; input (module args; ``{tmp}`` is a fresh directory);
check_mode; diff; the world: platform (_fake_platform.py), backend,
postgres, flyway, redis (_fake_services.py), files (make_files), environ (variables
set in the module's environment); calls
(default []: a refusal asks for no change); output (a subset of the result;
``msg_contains``, ``warnings_contain`` and ``report_contains`` list words);
absent (keys the result lacks); after (config, store, replicas, logins
({role: a password that logs in}), files ({glob: [words in the one file]}),
files_absent, fingerprints_differ); xfail (a reason: a bug the case shows).
"""
import glob
import hashlib
import io
import json
import os
import sys
import time
from contextlib import redirect_stdout

import pytest
import yaml

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 (the version matrix, scripts/core-matrix.sh)
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory

from tests.unit.plugins.modules._fake_platform import make_adapter, real_class
from tests.unit.plugins.modules._fake_services import FakeBackend, FakeFlywayTable, FakePostgres, FakeRedis

HERE = os.path.dirname(os.path.abspath(__file__))


# --------------------------------------------------------------------------- time
class FakeClock(object):
    """Sleeps return at once and move time.time() on by their length."""

    def __init__(self):
        self.offset = 0.0
        self.real_time = time.time

    def time(self):
        return self.real_time() + self.offset

    def sleep(self, seconds):
        self.offset += max(seconds, 0)


# --------------------------------------------------------------------------- files
def _mode(mode):
    """A file mode from a case: '0777' (a string, as YAML 1.2 and ansible-lint
    want octal written) or an int."""
    return int(mode, 8) if isinstance(mode, str) else mode


def make_files(root, spec):
    """``files:`` {relative path: text, or {text, mode}, or {dir: true,
    mode}}; ``{backup: true, started, database}`` is a backup as pg_backup
    makes it (a plain, uncompressed script with its manifest and sha256
    sidecar)."""
    for name, value in (spec or {}).items():
        if isinstance(value, dict) and value.get('backup'):
            _backup(os.path.join(root, name), value)
            continue
        if isinstance(value, dict) and value.get('dir'):
            os.makedirs(os.path.join(root, name))
            os.chmod(os.path.join(root, name), _mode(value.get('mode', 0o700)))
            continue
        text, mode = (value.get('text', ''), value.get('mode', 0o600)) if isinstance(value, dict) else (value, 0o600)
        path = os.path.join(root, name)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o700)
        with open(path, 'w') as handle:
            handle.write(text)
        os.chmod(path, _mode(mode))


PLAIN_DUMP = ('--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n'
              'CREATE TABLE public.orders (id integer);\n'
              'COPY public.orders (id) FROM stdin;\n1\n2\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n')


def _backup(path, spec):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    data = spec.get('text', PLAIN_DUMP).encode()
    with open(path, 'wb') as handle:
        handle.write(data)
    digest = hashlib.sha256(data).hexdigest()
    manifest = dict(tool='quickbite.ops.pg_backup', database=spec.get('database', 'quickbite'), format='plain',
                    compression='none', file=os.path.basename(path), size=len(data), sha256=digest,
                    flyway_version='3', flyway_failed_rows=0, tables={'orders': 2},
                    started=spec.get('started', '2026-11-29T08:00:00+00:00'), verification=None)
    with open(path + '.manifest.json', 'w') as handle:
        json.dump(manifest, handle)
    with open(path + '.sha256', 'w') as handle:
        handle.write('%s  %s\n' % (digest, os.path.basename(path)))
    for name in (path, path + '.manifest.json', path + '.sha256'):
        os.chmod(name, 0o600)


# --------------------------------------------------------------------------- running a case
def load_cases(name):
    with open(os.path.join(HERE, 'test_%s.yaml' % name)) as handle:
        data = yaml.safe_load(handle)
    return [pytest.param(case, id=case['id'],
                         marks=[pytest.mark.xfail(reason=case['xfail'], strict=True)] if case.get('xfail') else [])
            for case in data['test_cases']]


def _expand(value, tmp):
    if isinstance(value, str):
        return value.replace('{tmp}', tmp)
    if isinstance(value, list):
        return [_expand(v, tmp) for v in value]
    if isinstance(value, dict):
        return dict((k, _expand(v, tmp)) for k, v in value.items())
    return value


class World(object):
    """Everything a case's module meets, patched in for one test."""

    def __init__(self, case, tmp, monkeypatch):
        self.case = _expand(case, tmp)
        self.tmp = tmp
        args = self.case.get('input') or {}
        self.adapter = make_adapter(self.case, args.get('platform') or 'compose')
        self.backend = FakeBackend(self.case, self.adapter.config)
        self.adapter.backend = self.backend
        self.postgres = FakePostgres(self.case, self.adapter.calls, self.adapter.config)
        self.redis = FakeRedis(self.case, self.adapter.config)
        self.flyway = FakeFlywayTable(self.case, self.adapter.calls)
        self.clock = FakeClock()
        self.secrets = set(v for k, v in self.adapter.config.items()
                           if _mask.is_secret_key(k, _mask.DEFAULT_SECRET_KEYS) and v and len(v) >= _mask.MIN_LENGTH)
        self.secrets.update(p for p in self.postgres.passwords().values() if p and len(p) >= _mask.MIN_LENGTH)
        self.secrets.update(v for k, v in args.items() if ('password' in k or 'secret' in k) and v
                            and isinstance(v, str) and len(v) >= _mask.MIN_LENGTH)
        make_files(tmp, self.case.get('files'))
        self._patch(monkeypatch)

    def _patch(self, monkeypatch):
        def get_adapter(module):
            return self.adapter

        def real_adapter(*args, **kwargs):
            raise AssertionError('a real platform adapter was built: patch where this module gets it')

        for kind in ('compose', 'k8s'):
            monkeypatch.setattr(real_class(kind), '__init__', real_adapter)
        # The factory, and wherever a module or module_utils imported it from
        # there (import the module under test before this).
        monkeypatch.setattr(factory, 'get_adapter', get_adapter)  # imported there at run time (LazyAdapter)
        for name, loaded in list(sys.modules.items()):
            if name.startswith('ansible_collections.quickbite.ops.') and callable(getattr(loaded, 'get_adapter', None)):
                monkeypatch.setattr(loaded, 'get_adapter', get_adapter)
        monkeypatch.setattr(_http, 'request', self.backend.request)
        import psycopg2
        monkeypatch.setattr(psycopg2, 'connect', self.postgres.connect)
        import socket
        monkeypatch.setattr(socket, 'create_connection', self.redis.create_connection)
        from ansible_collections.quickbite.ops.plugins.module_utils.db import flyway
        monkeypatch.setattr(flyway, 'table', self.flyway)
        monkeypatch.setattr(time, 'time', self.clock.time)
        monkeypatch.setattr(time, 'sleep', self.clock.sleep)
        for key, value in (self.case.get('environ') or {}).items():  # e.g. an AWX job's AWX_HOST
            monkeypatch.setenv(key, str(value))
        # The database modules turn SIGTERM/SIGINT/SIGHUP into exceptions: not
        # in the test process.
        import signal
        monkeypatch.setattr(signal, 'signal', lambda signum, handler: signal.getsignal(signum))
        # Warnings are kept per process until a module exits: none from an earlier case.
        from ansible.module_utils.common import warnings
        # (a dict since ansible-core 2.19, a list before)
        monkeypatch.setattr(warnings, '_global_warnings', type(warnings._global_warnings)())

    def run(self, module):
        args = dict(self.case.get('input') or {})
        args.setdefault('platform', 'compose')
        if self.case.get('check_mode'):
            args['_ansible_check_mode'] = True
        if self.case.get('diff'):
            args['_ansible_diff'] = True
        out = io.StringIO()
        with patch_module_args(args), redirect_stdout(out):
            with pytest.raises(SystemExit) as exit_:
                module.main()
        result = json.loads(out.getvalue())
        result['rc'] = exit_.value.code
        return out.getvalue(), result

    def all_secrets(self):
        """The secrets the case started with and every one written since."""
        found = set(self.secrets)
        found.update(v for k, v in self.adapter.config.items()
                     if _mask.is_secret_key(k, _mask.DEFAULT_SECRET_KEYS) and v and len(v) >= _mask.MIN_LENGTH)
        found.update(p for p in self.postgres.passwords().values() if p and len(p) >= _mask.MIN_LENGTH)
        for data in self.adapter.memory.data.values():
            for key in ('old', 'new'):
                value = json.loads(data).get(key)
                if isinstance(value, str) and len(value) >= _mask.MIN_LENGTH:
                    found.add(value)
        return found


def _subset(expected, actual, where):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), '%s: expected a dict, got %r' % (where, actual)
        for key, value in expected.items():
            assert key in actual, '%s: no key %s in %s' % (where, key, sorted(actual))
            _subset(value, actual[key], '%s.%s' % (where, key))
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), '%s: %r != %r' % (where, actual, expected)
        for index, (one, other) in enumerate(zip(expected, actual)):
            _subset(one, other, '%s[%d]' % (where, index))
    else:
        assert actual == expected, '%s: %r != %r' % (where, actual, expected)


def _words(words, text, where):
    for word in words:
        assert word in text, '%s: %r not in %r' % (where, word, text)


def _warning_text(warning):
    """A warning as text (ansible-core 2.19 returns {event: {msg}} summaries)."""
    if isinstance(warning, dict):
        return (warning.get('event') or {}).get('msg') or json.dumps(warning)
    return warning


def check(world, printed, result):
    case = world.case
    expected = dict(case.get('output') or {})
    msg_words = expected.pop('msg_contains', [])
    warning_words = expected.pop('warnings_contain', [])
    _words(expected.pop('report_contains', []), '\n'.join(result.get('report_lines', [])), 'report_lines')
    _words(msg_words, result.get('msg', ''), 'msg')
    _words(warning_words, '\n'.join(_warning_text(w) for w in result.get('warnings', [])), 'warnings')
    if not warning_words and 'warnings' not in expected:
        assert not result.get('warnings'), 'unexpected warnings %r' % result.get('warnings')
    expected.setdefault('failed', False) if 'failed' not in expected else None
    if not expected['failed']:
        assert not result.get('failed'), 'the module failed: %s' % result.get('msg')
        assert result['rc'] == 0
    else:
        assert result.get('failed') is True and result['rc'] == 1
    expected.pop('failed')
    _subset(expected, result, 'result')
    for key in case.get('absent') or []:
        assert key not in result, 'result has %s' % key
    assert world.adapter.calls == case.get('calls', []), 'calls: %r' % world.adapter.calls
    after = case.get('after') or {}
    for key, value in (after.get('config') or {}).items():
        assert world.adapter.config.get(key) == value, 'config %s: %r' % (key, world.adapter.config.get(key))
    for key, value in (after.get('store') or {}).items():
        stored = world.adapter.memory.load(key)
        assert (stored is not None) == bool(value), 'store %s: %r' % (key, stored)
    for role, password in (after.get('logins') or {}).items():
        assert world.postgres._login_ok(role, password), 'role %s does not log in with %r' % (role, password)
    for service, replicas in (after.get('replicas') or {}).items():
        assert world.adapter.state[service]['replicas'] == replicas
    for pattern in after.get('files_absent') or []:
        assert not glob.glob(os.path.join(world.tmp, pattern)), pattern
    for pattern, words in (after.get('files') or {}).items():
        found = glob.glob(os.path.join(world.tmp, pattern))
        assert len(found) == 1, '%s: %r' % (pattern, found)
        with open(found[0]) as handle:
            _words(words or [], handle.read(), found[0])
    if after.get('fingerprints_differ'):
        assert result['old_fingerprint'] != result['new_fingerprint']
    # No secret reaches what Ansible receives, in any field.
    for secret in world.all_secrets():
        assert secret not in printed, 'a secret value is in the result'
