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

Case keys: id, input (module args; ``{tmp}`` is a fresh directory),
check_mode, diff, platform, backend, postgres, flyway, files, calls (default
[]: a refusal asks for no change), output (subset of the result;
``msg_contains``, ``warnings_contain`` and ``report_contains`` list words), absent (keys the result lacks), after (config, store,
replicas, logins ({role: a password that logs in}), files ({glob: [words in the one file]}), files_absent), xfail
(a reason).
"""
import glob
import hashlib
import hmac
import io
import json
import os
import sys
import time
import urllib.error
from contextlib import redirect_stdout
from urllib.parse import urlparse

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform import base, factory
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import LockedError

from tests.unit.fakes import MemoryStore

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = ('backend', 'frontend', 'postgres', 'redis')


# --------------------------------------------------------------------------- platform
class FakeAdapter(base.Adapter):
    """The platform as the table describes it. ``platform:`` keys:
    services ({name: {replicas, ready, image, image_id, revision, pinned,
    config_changed, state, logs, resources, wait_fails}}), config, store,
    history ({service: [{image, image_id} or {revision, image}]}),
    locked_by (a holder: lock() refuses), fail ({method: message})."""

    RECORDED = ('set_config', 'restart', 'restart_stack', 'delete_replica', 'scale', 'set_resources', 'rollback',
                'unpin', 'stop', 'start', 'wait', 'lock')

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
        self.memory = MemoryStore()
        for key, value in (spec.get('store') or {}).items():
            self.memory.save(key, value)

    # -- recording
    def _record(self, *call):
        self.calls.append(list(call))
        message = self.fail.get(call[0])
        if message:
            from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
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
        raise ConfigError('quickbite_db_access exec is not available in these tests')

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
            from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
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
            from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
            raise PlatformError(self.fail['get_config'])
        return self.config.get(key)

    def config_items(self):
        if 'config_items' in self.fail:
            from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
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


def _real_class(kind):
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
        real = _real_class(kind)
        declared = dict((name, value) for name, value in vars(real).items()
                        if not name.startswith('_') and isinstance(value, (bool, str)))
        _CLASSES[kind] = type('Fake%sAdapter' % real.__name__, (FakeAdapter,), declared)
    return _CLASSES[kind](world)


class _Free(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------- HTTP
class FakeBackend(object):
    """QuickBite's backend and frontend over HTTP. ``backend:`` keys: down
    (nothing answers), actuator (UP/DOWN), env (the environment it runs with;
    default: the configuration), ignores_restart (keeps that environment
    when restarted), redirect (every answer a 302)."""

    def __init__(self, world, config):
        spec = world.get('backend') or {}
        self.down = spec.get('down', False)
        self.actuator = spec.get('actuator', 'UP')
        self.ignores_restart = spec.get('ignores_restart', False)
        self.redirect = spec.get('redirect')
        self.env = dict(spec.get('env', config))
        self.requests = []

    def restarted(self, config):
        if not self.ignores_restart:
            self.env = dict(config)

    def request(self, url, method='GET', data=None, headers=None, timeout=5, validate_certs=True):
        path = urlparse(url).path
        self.requests.append((method, path))
        if self.down:
            raise urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
        if self.redirect:
            raise _http.Redirected(url, 302, self.redirect)
        headers = headers or {}
        if path.endswith('/actuator/health'):
            body = {'status': self.actuator, 'components': {'db': {'status': self.actuator}}}
            return (200 if self.actuator == 'UP' else 503), json.dumps(body).encode()
        if method == 'POST':
            secret = self.env.get('PAYMENT_WEBHOOK_SECRET') or ''
            good = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
            return (200 if hmac.compare_digest(good, headers.get('X-Razorpay-Signature', '')) else 400), b'{}'
        if 'Authorization' in headers:
            token = headers['Authorization'].split(' ', 1)[1]
            head, body, signature = token.split('.')
            for key in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS'):
                secret = self.env.get(key)
                if secret:
                    mac = hmac.new(secret.encode(), ('%s.%s' % (head, body)).encode(), hashlib.sha256).digest()
                    import base64
                    if base64.urlsafe_b64encode(mac).rstrip(b'=').decode() == signature:
                        return 200, b'[]'
            return 401, b'{"error":"invalid token"}'
        return 200, b'<!doctype html><html><body>QuickBite</body></html>'


# --------------------------------------------------------------------------- PostgreSQL
class _Error(Exception):
    pass


class FakePostgres(object):
    """A server reached through psycopg2.connect. ``postgres:`` keys: down,
    roles ({name: password}; default: DB_USER (quickbite) with DB_PASSWORD
    and postgres with POSTGRES_PASSWORD), databases ({name: {comment}})."""

    def __init__(self, world, calls, config):
        spec = world.get('postgres') or {}
        self.down = spec.get('down', False)
        roles = spec.get('roles')
        if roles is None:  # the deployment's own credentials
            roles = {config.get('DB_USER') or 'quickbite': config.get('DB_PASSWORD'),
                     'postgres': config.get('POSTGRES_PASSWORD')}
        self.roles = dict((name, ('plain', password)) for name, password in roles.items())
        self.databases = dict((name, dict(value or {})) for name, value in (spec.get('databases') or {}).items())
        self.calls = calls

    def passwords(self):
        return dict((name, value[1]) for name, value in self.roles.items() if value[0] == 'plain')

    def _login_ok(self, user, password):
        if user not in self.roles:
            return False
        kind, stored = self.roles[user]
        if kind == 'plain':
            return stored is None or stored == password  # None: trust
        # SCRAM-SHA-256$<iterations>:<salt>$<stored key>:<server key>
        import base64
        head, keys = stored.split('$')[1:]
        iterations, salt = head.split(':')
        salted = hashlib.pbkdf2_hmac('sha256', password.encode(), base64.b64decode(salt), int(iterations))
        client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
        return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == keys.split(':')[0]

    def connect(self, **kwargs):
        import psycopg2
        if self.down:
            raise psycopg2.OperationalError('connection to server at "%s", port %s failed: Connection refused'
                                            % (kwargs.get('host'), kwargs.get('port')))
        if not self._login_ok(kwargs.get('user'), kwargs.get('password')):
            raise psycopg2.OperationalError('connection to server at "%s", port %s failed: FATAL:  password '
                                            'authentication failed for user "%s"'
                                            % (kwargs.get('host'), kwargs.get('port'), kwargs.get('user')))
        return _Connection(self, kwargs)

    def execute(self, statement, params):
        text = _sql_text(statement)
        if text in ('SELECT 1',):
            return [(1,)]
        if text == 'SHOW server_version':
            return [('15.10',)]
        if text.startswith('ALTER ROLE'):
            role = text.split('"')[1]
            self.calls.append(['ALTER ROLE', role])
            self.roles[role] = ('scram', params[0])
            return None
        if text.startswith('SELECT 1 FROM pg_database'):
            return [(1,)] if params[0] in self.databases else []
        if text.startswith('SELECT shobj_description'):
            return [(self.databases[params[0]].get('comment'),)] if params[0] in self.databases else []
        raise AssertionError('FakePostgres: unexpected SQL %r' % text)


def _sql_text(statement):
    """A statement as text (psycopg2.sql composed without a server: an
    Identifier as "name")."""
    if isinstance(statement, str):
        return statement
    from psycopg2 import sql
    if isinstance(statement, sql.Composed):
        return ''.join(_sql_text(part) for part in statement.seq)
    if isinstance(statement, sql.Identifier):
        return '.'.join('"%s"' % s for s in statement.strings)
    if isinstance(statement, sql.SQL):
        return statement.string
    if isinstance(statement, sql.Literal):
        return repr(statement.wrapped)
    raise AssertionError('FakePostgres: cannot read %r' % (statement,))


class _Connection(object):
    def __init__(self, server, kwargs):
        self.server, self.kwargs = server, kwargs
        self.autocommit = False
        self.server_version = 151000

    def cursor(self):
        return _Cursor(self.server)

    def commit(self):
        pass

    def close(self):
        pass


class _Cursor(object):
    def __init__(self, server):
        self.server = server
        self.rows = None
        self.description = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, params=None):
        self.rows = self.server.execute(statement, params)
        self.description = [('column',)] if self.rows is not None else None

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows or [])


class FakeFlywayTable(object):
    """flyway_schema_history as db/_flyway_table.py reads and repairs it.
    ``flyway:`` keys: rows ([{rank, version, description, success}]), taken
    (backup table names that exist), missing (no history table)."""

    TABLE = 'flyway_schema_history'

    def __init__(self, world, calls):
        spec = world.get('flyway') or {}
        self.rows = [self._row(r) for r in spec.get('rows') or []]
        self.taken = set(spec.get('taken') or [])
        self.missing = spec.get('missing', False)
        self.calls = calls

    @staticmethod
    def _row(given):
        version = str(given['version'])
        return dict(installed_rank=given['rank'], version=version, description=given['description'],
                    type='SQL', script='V%s__%s.sql' % (version, given['description']),
                    checksum=given.get('checksum'), installed_by='quickbite', installed_on='2026-11-29 08:00:00',
                    execution_time=5, success=given.get('success', True))

    def read(self, target):
        if self.missing:
            raise NotFoundError('table %s not found in %s (search_path "$user", public): Flyway has not run against '
                                'this database; check quickbite_db_name and quickbite_db_user' % (
                                    self.TABLE, target.describe()))
        return 'public', [dict(r) for r in self.rows]

    def free_name(self, target, schema, wanted):
        name, n = wanted, 1
        while name in self.taken:
            n += 1
            name = '%s_%d' % (wanted, n)
        return name

    def repair(self, target, schema, backup, expected, comment):
        self.calls.append(['flyway repair', [r['installed_rank'] for r in expected]])  # the backup name has the time
        copied = len(self.rows)
        deleted = [r for r in self.rows if not r['success']]
        self.rows = [r for r in self.rows if r['success']]
        self.taken.add(backup)
        return copied, deleted, [dict(r) for r in self.rows]


# --------------------------------------------------------------------------- Redis
class FakeRedis(object):
    """Redis as the health check's RESP client meets it (socket.create_connection).
    ``redis:`` keys: down, password (default: REDIS_PASSWORD of the configuration)."""

    def __init__(self, world, config):
        spec = world.get('redis') or {}
        self.down = spec.get('down', False)
        self.password = spec.get('password', config.get('REDIS_PASSWORD'))

    def create_connection(self, address, timeout=None, *args, **kwargs):
        if self.down:
            raise ConnectionRefusedError(111, 'Connection refused')
        return _RedisSocket(self.password)


class _RedisSocket(object):
    def __init__(self, password):
        self.password, self.authed, self.replies = password, not password, []

    def makefile(self, mode):
        return self

    def sendall(self, data):
        parts = data.split(b'\r\n')[2::2]
        if parts[0] == b'AUTH':
            self.authed = parts[1].decode() == self.password
            self.replies.append(b'+OK\r\n' if self.authed else b'-WRONGPASS invalid username-password pair\r\n')
        else:
            self.replies.append(b'+PONG\r\n' if self.authed else b'-NOAUTH Authentication required.\r\n')

    def readline(self):
        return self.replies.pop(0)

    def close(self):
        pass


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
            os.chmod(os.path.join(root, name), value.get('mode', 0o700))
            continue
        text, mode = (value.get('text', ''), value.get('mode', 0o600)) if isinstance(value, dict) else (value, 0o600)
        path = os.path.join(root, name)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o700)
        with open(path, 'w') as handle:
            handle.write(text)
        os.chmod(path, mode)


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
        # The factory, and wherever a module or module_utils imported it from
        # there (import the module under test before this).
        def real_adapter(*args, **kwargs):
            raise AssertionError('a real platform adapter was built: patch where this module gets it')
        for kind in ('compose', 'k8s'):
            monkeypatch.setattr(_real_class(kind), '__init__', real_adapter)
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
        # The database modules turn SIGTERM/SIGINT/SIGHUP into exceptions: not
        # in the test process.
        import signal
        monkeypatch.setattr(signal, 'signal', lambda signum, handler: signal.getsignal(signum))
        # Warnings are kept per process until a module exits: none from an earlier case.
        from ansible.module_utils.common import warnings
        monkeypatch.setattr(warnings, '_global_warnings', {})

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
