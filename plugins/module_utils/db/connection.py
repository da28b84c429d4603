# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching QuickBite's PostgreSQL: the options every database module shares,
their defaults read from the deployment's configuration (C(DB_*) keys of the
env file or Secret), and libpq connections and environments.

Passwords never travel in argv: client programs get them through PGPASSWORD
in their environment, psycopg2 through the connect() keywords."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError

# The one place psycopg2 is imported for the database modules: the others
# take psycopg2 and sql (re-exported) from here; a module calls
# require_psycopg2() first.
try:
    import psycopg2
    import psycopg2.extensions
    from psycopg2 import sql  # pylint: disable=unused-import
    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError:
    psycopg2 = sql = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

APPLICATION_NAME = 'quickbite.ops'


def require_psycopg2(module):
    """Fail the module at once, saying what to install, without psycopg2."""
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)


def db_argument_spec():
    """Options documented in the quickbite.ops.database doc fragment; keep both in step."""
    return dict(
        db_host=dict(type='str', default='127.0.0.1'),
        db_port=dict(type='int', default=5432),
        db_name=dict(type='str'),
        db_user=dict(type='str'),
        db_password=dict(type='str', no_log=True),
        connect_timeout=dict(type='int', default=10),
    )


class Target(object):
    """Where and as whom to connect. ``password`` is registered with the
    module's no_log values as soon as it is known."""

    def __init__(self, host, port, dbname, user, password, timeout=10):
        self.host, self.port, self.dbname = host, port, dbname
        self.user, self.password, self.timeout = user, password, timeout

    def describe(self, dbname=None):
        return '%s@%s:%s/%s' % (self.user, self.host, self.port, dbname or self.dbname)

    def connect(self, dbname=None, autocommit=True, application=APPLICATION_NAME):
        try:
            conn = psycopg2.connect(host=self.host, port=self.port, dbname=dbname or self.dbname,
                                    user=self.user, password=self.password, connect_timeout=self.timeout,
                                    application_name=application)
        except psycopg2.Error as exc:
            raise PlatformError('unable to connect to %s: %s; check quickbite_db_host, quickbite_db_port, '
                                'quickbite_db_user and the DB_PASSWORD the deployment holds (or quickbite_db_password)'
                                % (self.describe(dbname), first_line(exc)))
        conn.autocommit = autocommit
        return conn

    def env(self, dbname=None):
        """Environment for libpq client programs (pg_dump, pg_restore, psql):
        the connection in PG* variables, so argv carries no password."""
        env = dict(os.environ)
        for key in ('PGSERVICE', 'PGSERVICEFILE', 'PGOPTIONS', 'PGPASSFILE'):
            env.pop(key, None)
        env.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user,
                   PGDATABASE=dbname or self.dbname, PGCONNECT_TIMEOUT=str(self.timeout),
                   PGAPPNAME=APPLICATION_NAME, LC_ALL='C')
        if self.password:
            env['PGPASSWORD'] = self.password
        else:
            env.pop('PGPASSWORD', None)
        return env


def resolve_target(module, adapter=None):
    """Target from the module options, falling back to the deployment's
    DB_NAME, DB_USER and DB_PASSWORD (the backend's own credentials)."""
    p = module.params

    def config(key):
        return adapter.get_config(key) if adapter is not None else None

    dbname = p.get('db_name') or config('DB_NAME') or 'quickbite'
    user = p.get('db_user') or config('DB_USER') or 'quickbite'
    password = p.get('db_password') or config('DB_PASSWORD')
    register_secrets(module, password)
    if not dbname or not user:
        raise ConfigError('no database name or user: set quickbite_db_name and quickbite_db_user')
    return Target(p.get('db_host') or '127.0.0.1', p.get('db_port') or 5432, dbname, user, password,
                  p.get('connect_timeout') or 10)


def first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def server_version(conn):
    """'15.10' style, from server_version_num."""
    num = conn.server_version
    return '%d.%d' % (num // 10000, num % 10000) if num >= 100000 else str(num)


class LazyAdapter(object):
    """Builds the platform adapter on first use: a run given every
    connection option never pays for it (the Kubernetes client alone takes
    0.4 s to import)."""

    def __init__(self, module):
        self.module = module
        self.adapter = None

    def get(self):
        if self.adapter is None:
            from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter
            self.adapter = get_adapter(self.module)
        return self.adapter

    def get_config(self, key):
        return self.get().get_config(key)
