# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database password rotation: the role's password changed through an admin
connection, sent as a SCRAM-SHA-256 verifier computed here (as psql's
\\password does), so the clear password never reaches the server, its logs
or pg_stat_activity."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import hmac
import os
import secrets

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import psycopg2, sql
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError

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


def login_checks(target, old, new):
    """[(check, ok, evidence)]: the new password logs in, the old one no longer
    does; with ``new`` None (after a rollback) the old one logs in again."""
    if new is None:
        wanted = (('login with the restored password', old, True),)
    else:
        wanted = (('login with the new password', new, True), ('login with the old password refused', old, False))
    results = []
    for name, password, want in wanted:
        try:
            connect(password=password, **target).close()
            works, detail = True, 'connected'
        except psycopg2.Error as exc:
            works, detail = False, str(exc).strip().splitlines()[0]
        results.append((name, works == want, '%s as %s at %s:%s: %s' % (
            'login', target['user'], target['host'], target['port'], detail)))
    return results
