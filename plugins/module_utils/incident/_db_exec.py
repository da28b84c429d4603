# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident's database and Redis evidence from inside their containers or
pods (the adapter's exec_spawn(); PostgreSQL as the postgres user over the
local socket):

- volume(): the free space of the filesystem holding the data directory, as
  the database server sees it (``SHOW data_directory``, then ``df -P -k``);
  on both platforms, whatever the database access, since no connection from
  the controller can see a volume;
- database(): the same questions as _stores.database() asked through psql,
  for ``quickbite_db_access: exec`` (Kubernetes without a port-forward);
- redis(): PING, then INFO through redis-cli, for ``quickbite_redis_access:
  exec`` (the password on redis-cli's stdin, as the health check sends it).

Every command is an argument list; nothing is interpreted by a shell."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import dbname_arg
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health import exec_checks
from ansible_collections.quickbite.ops.plugins.module_utils.incident import _stores

SEP = '\x1f'  # psql's field separator: no query text or setting holds it
TIMING = re.compile(r'^Time: ([0-9.]+) ms')
# The runbook's Disk Usage alert: above this, the volume is a finding.
FULL_PCT = 85.0


def _psql(port, dbname, *commands):
    argv = ['psql', '-X', '-A', '-t', '-q', '-F', SEP, '-v', 'ON_ERROR_STOP=1', '--port=%d' % int(port),
            '--username=postgres', dbname_arg(dbname)]
    for command in commands:
        argv += ['-c', command]
    return argv


def _left(deadline):
    return max(1, int(deadline - time.monotonic() + 0.999))


def _first(text, code):
    return (text.strip().splitlines() or ['exit code %s' % code])[0]


def data_directory(spawn, port, deadline):
    """The server's data directory (``SHOW data_directory``), else $PGDATA of the container."""
    code, out, err = exec_checks.run(spawn, _psql(port, 'postgres', 'SHOW data_directory'), None, _left(deadline))
    found = out.strip()
    if code == 0 and found.startswith('/'):
        return found, 'SHOW data_directory'
    code2, out2, dummy = exec_checks.run(spawn, ['printenv', 'PGDATA'], None, _left(deadline))
    if code2 == 0 and out2.strip().startswith('/'):
        return out2.strip(), '$PGDATA (psql: %s)' % _first(err, code)
    raise QuickbiteError('cannot find the data directory: psql answered %s and the container has no PGDATA'
                         % _first(err, code))


def parse_df(text):
    """{filesystem, size_bytes, used_bytes, avail_bytes, used_pct, mountpoint} of ``df -P -k`` output."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError('df printed no filesystem: %r' % text[:200])
    fields = lines[-1].split()
    if len(fields) < 6:
        raise ValueError('unexpected df line %r' % lines[-1])
    size, used, avail = (int(value) * 1024 for value in fields[1:4])
    used_pct = round(100.0 * used / (used + avail), 1) if used + avail else 0.0  # df's own rule, unrounded
    return dict(filesystem=fields[0], size_bytes=size, used_bytes=used, avail_bytes=avail, used_pct=used_pct,
                mountpoint=' '.join(fields[5:]))


def volume(starter, port, data_dir, timeout, service):
    """{available: True, data_directory, from, filesystem, mountpoint, size_bytes,
    used_bytes, avail_bytes, used_pct, full, service} or {available: False, why}."""
    deadline = time.monotonic() + timeout
    try:
        spawn = starter()
        source = 'incident_db_data_dir'
        if not data_dir:
            data_dir, source = data_directory(spawn, port, deadline)
        code, out, err = exec_checks.run(spawn, ['df', '-P', '-k', data_dir], None, _left(deadline))
        if code is None:
            raise QuickbiteError('df did not answer within %s s' % timeout)
        if code != 0:
            raise QuickbiteError('df -P -k %s: %s' % (data_dir, _first(err, code)))
        found = parse_df(out)
    except (QuickbiteError, OSError, ValueError) as exc:
        return dict(available=False, service=service,
                    why='free space of the database volume unknown: %s' % getattr(exc, 'msg', exc))
    found.update(available=True, service=service, data_directory=data_dir, found_by=source,
                 full=found['used_pct'] >= FULL_PCT)
    return found


def volume_line(vol):
    if not vol.get('available'):
        return vol['why']
    return 'volume %s (%s in %s): %.1f MB free of %.1f MB, %.1f%% used' % (
        vol['mountpoint'], vol['data_directory'], vol['service'], vol['avail_bytes'] / 1048576.0,
        vol['size_bytes'] / 1048576.0, vol['used_pct'])


def database(starter, port, dbname, timeout, long_query_seconds, masker, where):
    """(ok, summary, data) like _stores.database(), through psql in the container."""
    deadline = time.monotonic() + timeout
    what = 'database %s in %s (psql as postgres over the local socket)' % (dbname, where)
    started = time.monotonic()
    long_queries = _stores.LONG_QUERIES.replace('left(query, 120)', "replace(left(query, 120), E'\\n', ' ')") \
        .replace('%s', str(int(long_query_seconds)))
    try:
        spawn = starter()
        code, out, err = exec_checks.run(spawn, _psql(port, dbname, '\\timing on', 'SELECT 1', _stores.CONNECTIONS,
                                                      _stores.BLOCKED, long_queries), None, _left(deadline))
    except (QuickbiteError, OSError) as exc:
        return False, 'cannot run psql for %s: %s' % (what, getattr(exc, 'msg', exc)), dict(
            reachable=False, connect_ms=round((time.monotonic() - started) * 1000, 1))
    if code is None:
        return False, 'psql for %s did not answer within %s s' % (what, timeout), dict(reachable=False)
    if code != 0:
        return False, 'unable to query %s: %s' % (what, masker.text(_first(err, code))), dict(reachable=False)
    rows, took = [], []
    for line in out.splitlines():
        timing = TIMING.match(line)
        if timing:
            took.append(float(timing.group(1)))
        elif line.strip() and not line.startswith('Timing is'):
            rows.append(line.split(SEP))
    try:
        used, maximum, size = (int(value) for value in rows[1])
        blocked = int(rows[2][0])
        found = [dict(pid=int(r[0]), user=r[1], state=r[2], seconds=int(r[3]), query=masker.text(r[4]))
                 for r in rows[3:]]
    except (IndexError, ValueError):
        return False, 'unexpected answer of psql for %s: %r' % (what, masker.text(out[:300])), dict(reachable=True)
    return _stores.judge(what, took[0] if took else None, used, maximum, size, blocked, found, long_query_seconds)


def redis(starter, port, password, timeout, where):
    """(ok, summary, data) like _stores.redis(), through redis-cli in the container."""
    ping = exec_checks.redis(starter, port, password, timeout, where)
    if ping['status'] != 'UP':
        return False, ping['evidence'], dict(reachable=False)
    what = 'redis in %s (redis-cli on port %s)' % (where, port)
    commands = ('AUTH %s\n' % exec_checks._redis_quote(password) if password else '') + 'INFO\n'  # pylint: disable=protected-access
    try:
        code, out, err = exec_checks.run(starter(), ['redis-cli', '-p', str(int(port))], commands.encode('ascii'),
                                         max(1, int(timeout)))
    except (QuickbiteError, OSError) as exc:
        return False, 'PING answered but INFO from %s failed: %s' % (what, getattr(exc, 'msg', exc)), dict(
            reachable=True)
    if code != 0 or 'used_memory:' not in out:
        return False, 'PING answered but INFO from %s failed: %s' % (what, _first(err or out, code)), dict(
            reachable=True)
    return _stores.judge_redis(what, out)
