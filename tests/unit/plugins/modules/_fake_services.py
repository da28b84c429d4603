"""What a module reaches besides its platform, each at its boundary: the
backend and frontend over HTTP (``_http.request``), PostgreSQL
(``psycopg2.connect``; ``flyway.table`` for the history table's SQL) and
Redis (``socket.create_connection``). See _harness.py."""
import base64
import hashlib
import hmac
import json
import urllib.error
from urllib.parse import urlparse

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import OWN_OBJECTS
from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError


# --------------------------------------------------------------------------- HTTP
class FakeBackend(object):
    """QuickBite's backend and frontend over HTTP. ``backend:`` keys: down
    (nothing answers), actuator (UP/DOWN), env (the environment it runs with;
    default: the configuration), ignores_restart (keeps that environment
    when restarted), redirect (every answer a 302), webhook_parsed_json (the
    webhook checks signatures over JSON it parsed and serialized again), answers ({'METHOD
    /path': [status, body as data, or null for nothing answering]}: other
    servers, such as Prometheus and Alertmanager)."""

    def __init__(self, world, config):
        spec = world.get('backend') or {}
        self.down = spec.get('down', False)
        self.actuator = spec.get('actuator', 'UP')
        self.ignores_restart = spec.get('ignores_restart', False)
        self.redirect = spec.get('redirect')
        self.parsed_json = spec.get('webhook_parsed_json', False)
        self.env = dict(spec.get('env', config))
        self.answers = spec.get('answers') or {}
        self.requests = []

    def restarted(self, config):
        if not self.ignores_restart:
            self.env = dict(config)

    def request(self, url, method='GET', data=None, headers=None, timeout=5, validate_certs=True):
        path = urlparse(url).path
        self.requests.append((method, path))
        if '%s %s' % (method, path) in self.answers:
            answer = self.answers['%s %s' % (method, path)]
            if answer is None:
                raise urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
            return answer[0], answer[1] if isinstance(answer[1], bytes) else json.dumps(answer[1]).encode()
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
            signed = json.dumps(json.loads(data), separators=(',', ':')).encode() if self.parsed_json else data
            good = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
            return (200 if hmac.compare_digest(good, headers.get('X-Razorpay-Signature', '')) else 400), b'{}'
        if 'Authorization' in headers:
            token = headers['Authorization'].split(' ', 1)[1]
            head, body, signature = token.split('.')
            for key in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS'):
                secret = self.env.get(key)
                if secret:
                    mac = hmac.new(secret.encode(), ('%s.%s' % (head, body)).encode(), hashlib.sha256).digest()
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
    and postgres with POSTGRES_PASSWORD), databases ({name: {comment,
    objects}}: ``objects`` of its own, 1 unless given)."""

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

    def execute(self, statement, params, dbname=None):
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
        if text == OWN_OBJECTS:
            return [(self.databases[dbname].get('objects', 1),)]
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
        return _Cursor(self.server, self.kwargs.get('dbname'))

    def commit(self):
        pass

    def close(self):
        pass


class _Cursor(object):
    def __init__(self, server, dbname=None):
        self.server = server
        self.dbname = dbname
        self.rows = None
        self.description = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, params=None):
        self.rows = self.server.execute(statement, params, self.dbname)
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
