# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``db`` and ``redis`` checks run inside the service's container or pod
(``quickbite_db_access: exec``, ``quickbite_redis_access: exec``), for
deployments whose database and Redis the controller cannot reach (Kubernetes
without a port-forward): ``psql`` over the container's local socket as the
postgres user (peer authentication, as backup and restore with ``access:
exec``), ``redis-cli`` with AUTH and PING on its stdin (the password never in
argv, hex-escaped so no byte of it can end the command). ``spawn`` is the
adapter's exec_spawn() starter. Like checks.py, each returns a result and
never raises."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import subprocess
import tempfile
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import dbname_arg
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health.checks import _result


def run(spawn, argv, data, timeout):
    """(exit code, stdout, stderr) of ``argv`` started by ``spawn`` with
    ``data`` on stdin (None: no stdin); killed after ``timeout`` seconds
    (exit code None)."""
    with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        if data is not None:
            stdin.write(data)
            stdin.flush()
            stdin.seek(0)
        proc = spawn(argv, subprocess.DEVNULL if data is None else stdin, out, err)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            code = None
        out.seek(0)
        err.seek(0)
        return code, out.read().decode('utf-8', 'replace'), err.read().decode('utf-8', 'replace')


def _start(starter, name, started):
    """The spawn function, or a DOWN result saying why there is none."""
    try:
        return starter(), None
    except QuickbiteError as exc:
        return None, _result(name, False, 'cannot run the check inside the pod or container: %s' % exc.msg, started)


def database(starter, port, dbname, timeout, where):
    started = time.time()
    spawn, down = _start(starter, 'db', started)
    if down:
        return down
    argv = ['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '--port=%d' % int(port), '--username=postgres',
            dbname_arg(dbname), '-c', 'SELECT 1', '-c', 'SHOW server_version']
    what = 'database %s in %s (psql as postgres over the local socket)' % (dbname, where)
    try:
        code, out, err = run(spawn, argv, None, max(1, int(timeout)))
    except (OSError, QuickbiteError) as exc:
        return _result('db', False, 'cannot run psql for %s: %s' % (what, getattr(exc, 'msg', exc)), started)
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if code is None:
        return _result('db', False, 'psql for %s did not answer within %s s' % (what, timeout), started)
    if code != 0 or len(lines) < 2:
        first = (err.strip().splitlines() or ['exit code %s' % code])[0]
        return _result('db', False, 'unable to query %s: %s' % (what, first), started)
    return _result('db', lines[0] == '1', 'SELECT 1 returned %s on %s (PostgreSQL %s)' % (lines[0], what, lines[1]),
                   started, server_version=lines[1])


def _redis_quote(value):
    """A redis-cli argument from any bytes: double quotes with \\xHH escapes."""
    return '"%s"' % ''.join('\\x%02x' % byte for byte in value.encode('utf-8'))


def redis(starter, port, password, timeout, where):
    started = time.time()
    spawn, down = _start(starter, 'redis', started)
    if down:
        return down
    what = 'redis in %s (redis-cli on port %s)' % (where, port)
    commands = ('AUTH %s\n' % _redis_quote(password) if password else '') + 'PING\n'
    try:
        code, out, err = run(spawn, ['redis-cli', '-p', str(int(port))], commands.encode('ascii'), max(1, int(timeout)))
    except (OSError, QuickbiteError) as exc:
        return _result('redis', False, 'cannot run redis-cli for %s: %s' % (what, getattr(exc, 'msg', exc)), started)
    replies = [line.strip() for line in out.splitlines() if line.strip()]
    if code is None:
        return _result('redis', False, 'redis-cli for %s did not answer within %s s' % (what, timeout), started)
    if password and (not replies or replies[0] != 'OK'):
        return _result('redis', False, 'AUTH refused by %s: %s; check quickbite_redis_password (or REDIS_PASSWORD)'
                       % (what, replies[0] if replies else (err.strip() or 'exit code %s' % code)), started)
    reply = replies[-1] if replies else (err.strip() or 'nothing (exit code %s)' % code)
    if reply != 'PONG':
        hint = '; set quickbite_redis_password' if 'NOAUTH' in reply else ''
        return _result('redis', False, 'PING to %s answered %s%s' % (what, reply, hint), started)
    return _result('redis', True, 'PING to %s answered PONG' % what, started)
