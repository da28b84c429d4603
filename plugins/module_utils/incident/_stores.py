# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident's PostgreSQL and Redis probes: what the runbook's steps 3 and
4 ask (``SELECT 1``, ``PING``) and what an on-call engineer looks at next."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import time

from ansible_collections.quickbite.ops.plugins.module_utils.health import checks

# Other sessions' queries running longer than the threshold (text cut, masked by the caller).
LONG_QUERIES = ("SELECT pid, usename, state, EXTRACT(EPOCH FROM now() - query_start)::int, left(query, 120) "
                "FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid() "
                "AND query_start < now() - make_interval(secs => %s) ORDER BY query_start LIMIT 10")
BLOCKED = "SELECT count(*) FROM pg_locks WHERE NOT granted"
CONNECTIONS = ("SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), "
               "current_setting('max_connections')::int, pg_database_size(current_database())")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def database(db, timeout, long_query_seconds, masker):
    """(ok, summary, data) of the database ``db`` (health settings' dict)."""
    psycopg2 = checks._psycopg2()  # pylint: disable=protected-access
    if psycopg2 is None:
        return False, 'psycopg2 is not installed on the managed host; install psycopg2-binary', {}
    where = 'database %s at %s:%s as %s' % (db['name'], db['host'], db['port'], db['user'])
    started = time.monotonic()
    try:
        tls = dict(sslmode=db.get('sslmode') or 'prefer')
        if db.get('sslrootcert'):
            tls['sslrootcert'] = db['sslrootcert']
        conn = psycopg2.connect(host=db['host'], port=db['port'], dbname=db['name'], user=db['user'],
                                password=db.get('password'), connect_timeout=max(1, int(timeout)),
                                application_name='quickbite.ops.incident', **tls)
    except psycopg2.Error as exc:
        return False, 'unable to reach %s: %s' % (where, masker.text(_first_line(exc))), dict(
            reachable=False, connect_ms=round((time.monotonic() - started) * 1000, 1))
    try:
        try:
            with conn.cursor() as cur:
                before = time.monotonic()
                cur.execute('SELECT 1')
                cur.fetchone()
                select_ms = round((time.monotonic() - before) * 1000, 1)
                cur.execute(CONNECTIONS)
                used, maximum, size = cur.fetchone()
                cur.execute(BLOCKED)
                blocked = cur.fetchone()[0]
                cur.execute(LONG_QUERIES, (long_query_seconds,))
                long_queries = [dict(pid=r[0], user=r[1], state=r[2], seconds=r[3], query=masker.text(r[4] or ''))
                                for r in cur.fetchall()]
        finally:
            conn.close()
    except psycopg2.Error as exc:
        return False, 'connected to %s, but a query failed: %s' % (where, masker.text(_first_line(exc))), dict(
            reachable=True)
    return judge(where, select_ms, used, maximum, size, blocked, long_queries, long_query_seconds)


def judge(where, select_ms, used, maximum, size, blocked, long_queries, long_query_seconds):
    """(ok, summary, data) of the answers, however they were asked (here or _db_exec)."""
    data = dict(reachable=True, select1_ms=select_ms, connections=used, max_connections=maximum,
                connections_pct=round(100.0 * used / maximum, 1) if maximum else None, size_bytes=size,
                blocked_locks=blocked, long_queries=long_queries, long_query_seconds=long_query_seconds)
    problems = []
    if maximum and used >= 0.9 * maximum:
        problems.append('%d of %d connections in use' % (used, maximum))
    if blocked:
        problems.append('%d lock(s) waiting' % blocked)
    if long_queries:
        problems.append('%d quer(ies) running over %d s' % (len(long_queries), long_query_seconds))
    summary = 'SELECT 1 in %s ms on %s; %d/%d connections, %d blocked lock(s), %d long quer(ies), %.1f MB' % (
        '%.1f' % select_ms if select_ms is not None else '?', where, used, maximum, blocked, len(long_queries),
        size / 1048576.0)
    if problems:
        summary += '; ' + ', '.join(problems)
    return not problems, summary, data


def _bulk(reader):
    head = checks._resp_line(reader)  # pylint: disable=protected-access
    if not head.startswith('$'):
        raise socket.error('unexpected answer %s' % head[:80])
    size = int(head[1:])
    return reader.read(size + 2)[:size].decode('utf-8', 'replace') if size >= 0 else ''


def redis(host, port, password, timeout):
    """(ok, summary, data): PING, then INFO's memory, clients and pub/sub."""
    ping = checks.redis(host, port, password, timeout)
    if ping['status'] != 'UP':
        return False, ping['evidence'], dict(reachable=False)
    where = 'redis at %s:%s' % (host, port)
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
        try:
            reader = sock.makefile('rb')
            if password:
                sock.sendall(checks._resp_command('AUTH', password))  # pylint: disable=protected-access
                checks._resp_line(reader)  # pylint: disable=protected-access
            sock.sendall(checks._resp_command('INFO'))  # pylint: disable=protected-access
            info = _bulk(reader)
            sock.sendall(checks._resp_command('PUBSUB', 'NUMPAT'))  # pylint: disable=protected-access
            checks._resp_line(reader)  # pylint: disable=protected-access
            sock.sendall(checks._resp_command('PUBSUB', 'CHANNELS'))  # pylint: disable=protected-access
            head = checks._resp_line(reader)  # pylint: disable=protected-access
            channels = int(head[1:]) if head.startswith('*') else 0
            for dummy in range(max(channels, 0)):
                _bulk(reader)
        finally:
            sock.close()
    except (socket.error, OSError, ValueError) as exc:
        return False, 'PING answered but INFO from %s failed: %s' % (where, exc), dict(reachable=True)
    return judge_redis(where, info, channels)


def judge_redis(where, info, channels=None):
    """(ok, summary, data) of INFO's text (pub/sub channels from INFO's stats when not counted)."""
    fields = dict(line.strip().split(':', 1) for line in info.splitlines() if ':' in line and not line.startswith('#'))
    if channels is None:
        channels = int(fields.get('pubsub_channels', 0))
    used, maximum = int(fields.get('used_memory', 0)), int(fields.get('maxmemory', 0))
    data = dict(reachable=True, used_memory=used, maxmemory=maximum, connected_clients=int(fields.get(
        'connected_clients', 0)), pubsub_channels=channels, version=fields.get('redis_version'))
    full = bool(maximum) and used >= 0.9 * maximum
    summary = 'PING answered PONG from %s; memory %.1f MB of %s, %d client(s), %d pub/sub channel(s)%s' % (
        where, used / 1048576.0, '%.1f MB' % (maximum / 1048576.0) if maximum else 'no limit',
        data['connected_clients'], channels, '; memory nearly full' if full else '')
    return not full, summary, data
