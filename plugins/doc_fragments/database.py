# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # One attribute per option group; change each together with its spec:
    # DOCUMENTATION (quickbite.ops.database) with options.database_argument_spec(),
    # LOGIN (quickbite.ops.database.login) with options.database_login_argument_spec(),
    # CLIENT (quickbite.ops.database.client) with options.database_client_argument_spec().
    DOCUMENTATION = r'''
options:
  db_host:
    description:
      - PostgreSQL host as reached from the host that runs the module (libpq).
    type: str
    default: 127.0.0.1
  db_port:
    description:
      - PostgreSQL port.
    type: int
    default: 5432
  db_name:
    description:
      - QuickBite's database; C(DB_NAME) from the deployment's configuration when omitted, else C(quickbite).
      - Database and role names (this one, O(db_user), and the admin and scratch database names where a module has
        them) must be 1 to 63 bytes without control characters or C(=); others are refused before anything runs.
    type: str
  db_user:
    description:
      - QuickBite's database role (the backend's own login); C(DB_USER) from the configuration when omitted, else
        C(quickbite).
    type: str
  db_sslmode:
    description:
      - libpq's C(sslmode) for every connection to O(db_host) (psycopg2 and, through C(PGSSLMODE), C(pg_dump),
        C(pg_restore) and C(psql)). C(require) and the C(verify) modes refuse a server without SSL; C(verify-ca)
        and C(verify-full) check its certificate against O(db_sslrootcert).
      - Not used with C(access=exec) (C(quickbite_db_access=exec)), whose programs reach PostgreSQL over its local
        socket.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  db_sslrootcert:
    description:
      - PEM file on the host that runs the module of the certificate authorities that sign the server's certificate,
        for O(db_sslmode=verify-ca) or O(db_sslmode=verify-full) (libpq's C(sslrootcert), C(PGSSLROOTCERT)). libpq's
        default, C(~/.postgresql/root.crt), when omitted.
    type: path
'''

    LOGIN = r'''
options:
  db_password:
    description:
      - Password of O(db_user) (vaulted); C(DB_PASSWORD) from the env file or Secret when omitted.
      - It never travels in argv; client programs receive it through C(PGPASSWORD) in their environment.
    type: str
'''

    CLIENT = r'''
options:
  connect_timeout:
    description:
      - Seconds libpq waits for a connection.
    type: int
    default: 10
requirements:
  - psycopg2 and the PostgreSQL client programs (C(pg_dump), C(pg_restore), C(psql)) of the server's major version
    or newer on the host that runs the module.
'''
