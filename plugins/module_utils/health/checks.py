# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single health checks. Each returns {name, status UP|DOWN, evidence,
details, duration_ms} and never raises: a check that cannot run is DOWN
with the reason as evidence."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import ready_by_endpoint


def _psycopg2():
    """psycopg2 when the db check runs (its import costs ~30 ms, which the
    procedures that check only the actuator and the platform need not pay)."""
    try:
        import psycopg2
    except ImportError:
        return None
    return psycopg2


def _result(name, ok, evidence, started, **details):
    return dict(name=name, status='UP' if ok else 'DOWN', evidence=evidence,
                details=details, duration_ms=int((time.time() - started) * 1000))


def http_get(url, timeout, validate_certs=True):
    """(status, body) for any HTTP answer; raises only when nothing answered."""
    return _http.request(url, timeout=timeout, validate_certs=validate_certs)


def _down_components(components, prefix=''):
    """Every component (nested ones included) whose status is not UP."""
    bad = []
    for name, comp in sorted((components or {}).items()):
        path = prefix + name
        status = comp.get('status', 'UNKNOWN')
        if status != 'UP':
            error = (comp.get('details') or {}).get('error')
            bad.append('%s %s%s' % (path, status, ' (%s)' % error if error else ''))
        bad.extend(_down_components(comp.get('components'), path + '.'))
    return bad


def actuator(backend_url, timeout, validate_certs=True):
    started = time.time()
    url = backend_url.rstrip('/') + '/actuator/health'
    try:
        code, body = http_get(url, timeout, validate_certs)
    except _http.NO_ANSWER as exc:
        return _result('actuator', False, 'GET %s: %s' % (url, _http.failure(exc)),
                       started, url=url)
    try:
        data = json.loads(body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        return _result('actuator', False, 'GET %s: HTTP %d with a body that is not actuator JSON' % (url, code),
                       started, url=url, http_status=code)
    status = data.get('status', 'UNKNOWN')
    bad = _down_components(data.get('components'))
    ok = code == 200 and status == 'UP' and not bad
    components = dict((k, v.get('status')) for k, v in (data.get('components') or {}).items())
    evidence = 'HTTP %d, status %s' % (code, status)
    if bad:
        evidence += '; ' + '; '.join(bad)
    return _result('actuator', ok, evidence, started, url=url, http_status=code,
                   components=components)


def database(host, port, dbname, user, password, timeout, sslmode='prefer', sslrootcert=None):
    started = time.time()
    where = 'database %s at %s:%s as %s' % (dbname, host, port, user)
    psycopg2 = _psycopg2()
    if psycopg2 is None:
        return _result('db', False, 'psycopg2 is not installed on the managed host; install '
                       'psycopg2-binary or leave db out of the checks', started)
    try:
        tls = dict(sslmode=sslmode, sslrootcert=sslrootcert) if sslrootcert else dict(sslmode=sslmode)
        conn = psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password,
                                connect_timeout=max(1, int(timeout)), application_name='quickbite.ops.healthcheck',
                                **tls)
        try:
            with conn.cursor() as cur:
                cur.execute('SELECT 1')
                value = cur.fetchone()[0]
                cur.execute('SHOW server_version')
                version = cur.fetchone()[0]
        finally:
            conn.close()
    except psycopg2.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        hint = ''
        if 'password' in first or 'authentication' in first:
            hint = '; check quickbite_db_user and quickbite_db_password'
        elif 'SSL' in first or 'certificate' in first:
            hint = '; check quickbite_db_sslmode (now %s) and quickbite_db_sslrootcert' % sslmode
        return _result('db', False, 'unable to connect to %s: %s%s' % (where, first, hint), started)
    return _result('db', value == 1, 'SELECT 1 returned %s on %s (PostgreSQL %s)' % (value, where, version),
                   started, server_version=version)


def _resp_command(*parts):
    out = b'*%d\r\n' % len(parts)
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode('utf-8')
        out += b'$%d\r\n%s\r\n' % (len(data), data)
    return out


def _resp_line(sock_file):
    line = sock_file.readline()
    if not line:
        raise socket.error('connection closed by server')
    return line.rstrip(b'\r\n').decode('utf-8', 'replace')


def redis(host, port, password, timeout):
    """PING over a raw RESP socket: one less library on the managed host."""
    started = time.time()
    where = 'redis at %s:%s' % (host, port)
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    except (socket.error, OSError) as exc:
        return _result('redis', False, 'unable to connect to %s: %s' % (where, exc), started)
    try:
        reader = sock.makefile('rb')
        if password:
            sock.sendall(_resp_command('AUTH', password))
            reply = _resp_line(reader)
            if not reply.startswith('+'):
                return _result('redis', False, 'AUTH refused by %s: %s; check quickbite_redis_password'
                               % (where, reply.lstrip('-')), started)
        sock.sendall(_resp_command('PING'))
        reply = _resp_line(reader)
    except (socket.error, OSError) as exc:
        return _result('redis', False, 'PING to %s failed: %s' % (where, exc), started)
    finally:
        sock.close()
    if reply != '+PONG':
        hint = '; set quickbite_redis_password' if 'NOAUTH' in reply else ''
        return _result('redis', False, 'PING to %s answered %s%s' % (where, reply.lstrip('-+'), hint), started)
    return _result('redis', True, 'PING to %s answered PONG' % where, started)


def frontend(frontend_url, deep_route, timeout, validate_certs=True):
    started = time.time()
    answers, problems = {}, []
    for path in ('/', deep_route):
        url = frontend_url.rstrip('/') + path
        try:
            code, body = http_get(url, timeout, validate_certs)
        except _http.NO_ANSWER as exc:
            problems.append('GET %s: %s' % (url, _http.failure(exc)))
            continue
        answers[path] = code
        if code != 200:
            problems.append('GET %s: HTTP %d' % (url, code))
        elif b'<' not in body[:4096]:
            problems.append('GET %s: HTTP 200 but the body is not HTML (%d bytes)' % (url, len(body)))
    if problems:
        return _result('frontend', False, '; '.join(problems), started, answers=answers)
    return _result('frontend', True, 'index and %s answered 200' % deep_route, started, answers=answers)


def platform_state(adapter, services, log_lines, endpoint_up=None, masker=None):
    """Every container/pod running and ready; failing ones come with their
    last log lines, as the P1 checklist's second step would show, passed
    through ``masker`` (_mask.Masker) when given.
    ``endpoint_up(service)``, when given, says whether the service's own health
    endpoint answered UP (see platform.base.ready_by_endpoint)."""
    started = time.time()
    try:
        state = adapter.services(services or None, detail=False)
    except NotFoundError as exc:
        if services:  # names the operator chose: a typo, not an outage, and waiting cannot mend it
            raise ConfigError('%s; check healthcheck_services (module option services): nothing was checked'
                              % exc.msg)
        return _result('platform', False, 'unable to read state of %s: %s' % (adapter.describe(), exc), started)
    except Exception as exc:  # a platform that cannot answer is itself the finding
        return _result('platform', False, 'unable to read state of %s: %s' % (adapter.describe(), exc), started)
    problems = []
    for index, service in enumerate(state):
        if not service['ok'] and endpoint_up is not None:
            accepted = ready_by_endpoint(service)
            if accepted['ok'] and endpoint_up(service['name']):
                state[index] = service = accepted
        if service['ok']:
            continue
        text = '%s: %s' % (service['name'], ', '.join(service['problems']))
        if log_lines:
            try:
                entries = adapter.logs(service['name'], tail=log_lines)
                lines = [line for entry in entries for line in entry['lines']][-log_lines:]
                if masker is not None:
                    lines = masker.lines(lines)
                service['last_log_lines'] = lines
                if lines:
                    text += '; last log lines:\n    ' + '\n    '.join(lines)
            except Exception as exc:  # evidence is best effort; the failure stands anyway
                service['last_log_lines'] = ['(logs unavailable: %s)' % exc]
        problems.append(text)
    summary = ', '.join('%s %d/%s ready' % (s['name'], len([r for r in s['replicas'] if r['ready']]),
                                            s['desired'] if s['desired'] is not None else len(s['replicas']))
                        for s in state)
    return _result('platform', not problems, '; '.join(problems) or summary, started,
                   services=state)
