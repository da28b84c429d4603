# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database password rotation: the role's password changed through an admin
connection, sent as a SCRAM-SHA-256 verifier computed here (as psql's
\\password does), so the clear password never reaches the server, its logs
or pg_stat_activity.

With ``access: exec`` (the database not reachable from here, as on
Kubernetes without a port-forward) both happen inside the database's
container or pod: ALTER ROLE through psql as postgres over the local socket
(the verifier passed as a psql variable, exec_sql.PsqlSession), and the
login tests as psql ``\\connect`` with a connection string sent on psql's
stdin (exec_sql.login): no password in any argv, here or in the pod."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import hmac
import os
import secrets

from ansible_collections.quickbite.ops.plugins.module_utils.db import exec_sql
from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import psycopg2, sql
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError, QuickbiteError

ITERATIONS = 4096


def new_password():
    """256 bits, URL-safe characters only: nothing an env file or a shell must quote."""
    return secrets.token_urlsafe(32)


def check_password(password):
    """Refuse, before any change, a password the verifier below would store
    differently from what a client sends (no SASLprep here: ASCII only), or
    one no client could type back (control characters). Names positions, never characters."""
    if not password:
        raise ConfigError('refusing an empty database password; supply one or leave it unset to generate one')
    bad = [str(index + 1) for index, char in enumerate(password) if not ' ' <= char <= '~']
    if bad:
        raise ConfigError('refusing the new database password: character %s %s not printable ASCII (a control or '
                          'non-ASCII character, which the SCRAM-SHA-256 verifier computed here cannot store as '
                          'PostgreSQL clients would send it); use printable ASCII only, or leave it unset to generate '
                          'one' % (', '.join(bad[:5]), 'is' if len(bad) == 1 else 'are'))


def scram_verifier(password, salt=None, iterations=ITERATIONS):
    """The string PostgreSQL stores in pg_authid for SCRAM-SHA-256 (RFC 5802/7677).
    ASCII passwords need no SASLprep; new_password() makes ASCII ones."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
    client_key = hmac.new(salted, b'Client Key', hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b'Server Key', hashlib.sha256).digest()

    def b64(data):
        return base64.b64encode(data).decode('ascii')
    return 'SCRAM-SHA-256$%d:%s$%s:%s' % (iterations, b64(salt), b64(stored_key), b64(server_key))


def connect(host, port, dbname, user, password, timeout=5, sslmode='prefer', sslrootcert=None):
    tls = dict(sslmode=sslmode, sslrootcert=sslrootcert) if sslrootcert else dict(sslmode=sslmode)
    return psycopg2.connect(host=host, port=port, dbname=dbname, user=user, password=password,
                            connect_timeout=timeout, application_name='quickbite.ops.rotate_db_password', **tls)


def set_password(admin, role, password):
    """ALTER ROLE through the admin connection settings (dict for connect())."""
    try:
        conn = connect(**admin)
    except psycopg2.Error as exc:
        raise PlatformError('unable to connect to database %s at %s:%s as %s to change the password of %s: %s; '
                            'check the admin user and its password (quickbite_db_admin_user, '
                            'quickbite_db_admin_password)' % (admin['dbname'], admin['host'], admin['port'],
                                                              admin['user'], role, str(exc).strip().splitlines()[0]))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL('ALTER ROLE {} PASSWORD %s').format(sql.Identifier(role)), (scram_verifier(password),))
    except psycopg2.Error as exc:
        raise PlatformError('ALTER ROLE %s failed: %s' % (role, str(exc).strip().splitlines()[0]))
    finally:
        conn.close()


def set_password_exec(starter, port, admin_db, role, password, timeout):
    """ALTER ROLE through psql as postgres inside the database's container
    or pod (``starter()``: the adapter's exec_spawn())."""
    try:
        with exec_sql.PsqlSession(starter(), port, admin_db, timeout=timeout) as session:
            session.rows('ALTER ROLE :"role" PASSWORD :\'verifier\'', role=role, verifier=scram_verifier(password))
    except PlatformError as exc:
        raise PlatformError('ALTER ROLE %s through psql in the database container failed: %s' % (role, exc.msg))


def _libpq_login(target, password):
    try:
        connect(password=password, **target).close()
        return True, 'connected'
    except psycopg2.Error as exc:
        return False, str(exc).strip().splitlines()[0]


def exec_login(starter, port, admin_db, target, timeout):
    """login(password) for login_checks(): libpq inside the container, to
    ``target``'s host and port as the backend reaches them."""
    keywords = dict(host=target['host'], port=target['port'], dbname=target['dbname'], user=target['user'],
                    sslmode=target.get('sslmode') or 'prefer', connect_timeout=max(1, int(timeout)),
                    application_name='quickbite.ops.rotate_db_password')

    def login(password):
        try:
            return exec_sql.login(starter(), port, admin_db, dict(keywords, password=password), timeout)
        except QuickbiteError as exc:
            return None, 'cannot run psql in the database container: %s' % exc.msg
    return login


TRUSTED = ('; if pg_hba.conf trusts this address no login can tell passwords apart: set DB_HOST (or '
           'quickbite_db_host) to the address the backend connects to')


def login_checks(target, old, new, login=None, where=None):
    """[(check, ok, evidence)]: the new password logs in, the old one no longer
    does; with ``new`` None (after a rollback) the old one logs in again.
    ``login(password)`` -> (works: True/False/None, detail), libpq from this
    host by default; None (could not try) fails the check either way."""
    login = login or (lambda password: _libpq_login(target, password))
    if new is None:
        wanted = (('login with the restored password', old, True),)
    else:
        wanted = (('login with the new password', new, True), ('login with the old password refused', old, False))
    results = []
    for name, password, want in wanted:
        works, detail = login(password)
        if works is True and want is False and where:
            detail += TRUSTED
        results.append((name, works is want, '%s as %s at %s:%s%s: %s' % (
            'login', target['user'], target['host'], target['port'], ' from %s' % where if where else '', detail)))
    return results


def exec_steps(adapter, params, user, target):
    """(set_password(password), login_checks(old, new)) through the database's
    container or pod (``access: exec``): ALTER ROLE as postgres over its local
    socket; the logins from there to the address the backend uses (DB_HOST and
    DB_PORT of the configuration, else db_host and db_port), where pg_hba.conf
    asks the backend for its password."""
    spawns = []

    def starter():
        if not spawns:
            spawns.append(adapter.exec_spawn(params['db_service'], user='postgres'))
        return spawns[0]
    timeout = 600 if params.get('exec_timeout') is None else params['exec_timeout']
    if timeout < 1:
        raise ConfigError('quickbite_db_exec_timeout (option exec_timeout) is %s: it must be at least 1 second; '
                          'leave it unset for 600' % timeout)
    port = adapter.get_config('DB_PORT')
    if port and not str(port).isdigit():
        raise ConfigError("the deployment's DB_PORT is %r, not a port number; fix DB_PORT in the configuration"
                          % port)
    login_target = dict(target, host=adapter.get_config('DB_HOST') or params['db_host'],
                        port=int(port) if port else params['db_port'])
    login = exec_login(starter, params['db_port'], params['admin_db'], login_target, min(timeout, 30))
    where = 'service %s of %s' % (params['db_service'], adapter.describe())

    def set_password(password):
        set_password_exec(starter, params['db_port'], params['admin_db'], user, password, timeout)

    def checks(old, new):
        return login_checks(login_target, old, new, login, where)
    return set_password, checks
