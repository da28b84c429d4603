# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reaching QuickBite's PostgreSQL: the database options (declared in
options.py) with their defaults read from the deployment's configuration
(C(DB_*) keys of the env file or Secret), and libpq connections and
environments.

Passwords never travel in argv: client programs get them through PGPASSWORD
in their environment, psycopg2 through the connect() keywords; so do the TLS
settings (PGSSLMODE, PGSSLROOTCERT; sslmode, sslrootcert).

Names of databases and roles are checked where they enter (check_identifier):
no control character, no ``=``, 1 to 63 bytes. Below that boundary a name is
still never parsed as a libpq connection string: psycopg2 takes it as a
keyword, client programs as a quoted ``dbname='...'`` (dbname_arg())."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import install_signal_handlers
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
# PostgreSQL keeps NAMEDATALEN - 1 bytes of a name and silently drops the rest.
NAME_MAX_BYTES = 63
# Options that name a database or a role, and the variable a playbook sets them with.
IDENTIFIER_OPTIONS = (
    ('db_name', 'quickbite_db_name'),
    ('db_user', 'quickbite_db_user'),
    ('admin_user', 'quickbite_db_admin_user'),
    ('admin_db', 'admin_db'),
    ('database', 'verify_backup_database'),
)


def require_psycopg2(module):
    """Fail the module at once, saying what to install, without psycopg2."""
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)


def database_module(argument_spec):
    """The start every backup and restore module's main() shares: the
    AnsibleModule (check mode supported), psycopg2 required, SIGTERM, SIGINT
    and SIGHUP turned into Interrupted so cleanup runs, and the platform
    adapter, built on first use."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    require_psycopg2(module)
    install_signal_handlers()
    return module, LazyAdapter(module)


def identifier_problem(value):
    """Why ``value`` cannot be a database or role name here, or None."""
    if not isinstance(value, str) or value == '':
        return 'it is empty'
    for char in value:
        if ord(char) < 0x20 or 0x7f <= ord(char) < 0xa0:
            return 'it contains the control character %s' % repr(char)
    if '=' in value:
        return "it contains '=' (libpq would read it as a connection string)"
    size = len(value.encode('utf-8', 'surrogatepass'))
    if size > NAME_MAX_BYTES:
        return 'it is %d bytes long; PostgreSQL keeps only %d and would use a different name' % (size, NAME_MAX_BYTES)
    return None


def check_identifier(value, variable):
    """Refuse a database or role name that could end a line, be read as a
    connection string or be truncated by PostgreSQL."""
    problem = identifier_problem(value)
    if problem:
        raise ConfigError('refusing %s %s: %s; database and role names must be 1 to %d bytes without control '
                          "characters or '='. Set %s to the exact name of the database or role; nothing was changed"
                          % (variable, repr(value), problem, NAME_MAX_BYTES, variable))
    return value


def check_identifier_options(module):
    """check_identifier() for every database or role name option the module has."""
    for option, variable in IDENTIFIER_OPTIONS:
        value = module.params.get(option)
        if value is not None and value != '':
            check_identifier(value, '%s (option %s)' % (variable, option) if variable != option else option)


def conninfo_quote(value):
    """A libpq connection-string value, always quoted: backslash and quote escaped."""
    return "'%s'" % value.replace('\\', '\\\\').replace("'", "\\'")


def dbname_arg(dbname):
    """``--dbname`` for pg_dump, pg_restore and psql: a connection string whose
    only keyword is the quoted name, so libpq never expands the name itself."""
    return '--dbname=dbname=%s' % conninfo_quote(dbname)


class Target(object):
    """Where and as whom to connect. ``password`` is registered with the
    module's no_log values as soon as it is known."""

    def __init__(self, host, port, dbname, user, password, timeout=10, sslmode='prefer', sslrootcert=None):
        self.host, self.port, self.dbname = host, port, dbname
        self.user, self.password, self.timeout = user, password, timeout
        self.sslmode, self.sslrootcert = sslmode or 'prefer', sslrootcert or None

    def login(self, dbname, user, password):
        """The same server and TLS settings, as another role."""
        return Target(self.host, self.port, dbname, user, password, self.timeout, self.sslmode, self.sslrootcert)

    def describe(self, dbname=None):
        return '%s@%s:%s/%s' % (self.user, self.host, self.port, dbname or self.dbname)

    def ssl_keywords(self):
        """libpq's TLS keywords for psycopg2.connect()."""
        keywords = dict(sslmode=self.sslmode)
        if self.sslrootcert:
            keywords['sslrootcert'] = self.sslrootcert
        return keywords

    def connect(self, dbname=None, autocommit=True, application=APPLICATION_NAME):
        try:
            conn = psycopg2.connect(host=self.host, port=self.port, dbname=dbname or self.dbname,
                                    user=self.user, password=self.password, connect_timeout=self.timeout,
                                    application_name=application, **self.ssl_keywords())
        except psycopg2.Error as exc:
            raise PlatformError('unable to connect to %s: %s; %s'
                                % (self.describe(dbname), first_line(exc), connect_hint(exc, self.sslmode)))
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
                   PGAPPNAME=APPLICATION_NAME, PGSSLMODE=self.sslmode, LC_ALL='C')
        if self.sslrootcert:
            env['PGSSLROOTCERT'] = self.sslrootcert
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

    def name(option, key, variable):
        if p.get(option):
            return p[option]
        value = config(key)
        if value:
            return check_identifier(value, "the deployment's %s (or set %s)" % (key, variable))
        return 'quickbite'

    check_identifier_options(module)
    dbname = name('db_name', 'DB_NAME', 'quickbite_db_name')
    user = name('db_user', 'DB_USER', 'quickbite_db_user')
    password = p.get('db_password') or config('DB_PASSWORD')
    register_secrets(module, password)
    sslrootcert = p.get('db_sslrootcert')
    if sslrootcert and not os.path.isfile(sslrootcert):
        raise ConfigError('quickbite_db_sslrootcert %s is not a file on the host that runs the module; set it to the '
                          'PEM file of the certificate authority that signed the server\'s certificate' % sslrootcert)
    return Target(p.get('db_host') or '127.0.0.1', p.get('db_port') or 5432, dbname, user, password,
                  p.get('connect_timeout') or 10, p.get('db_sslmode') or 'prefer', sslrootcert)


def connect_hint(exc, sslmode):
    """What to check after a failed connection, TLS settings first when TLS failed."""
    text = str(exc)
    if 'SSL' in text or 'certificate' in text or 'root.crt' in text:
        return ('check quickbite_db_sslmode (now %s) and quickbite_db_sslrootcert: require and verify-* need a '
                'server with SSL on, verify-* a root certificate that signed the server\'s; disable or prefer for a '
                'server without SSL' % sslmode)
    return ('check quickbite_db_host, quickbite_db_port, quickbite_db_user and the DB_PASSWORD the deployment holds '
            '(or quickbite_db_password)')


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
