# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with db.connection.db_argument_spec(); change both together.
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
    type: str
  db_user:
    description:
      - Role to connect as; C(DB_USER) from the configuration when omitted, else C(quickbite).
    type: str
  db_password:
    description:
      - Password of O(db_user) (vaulted); C(DB_PASSWORD) from the env file or Secret when omitted.
      - Client programs receive it through C(PGPASSWORD) in their environment, never in argv.
    type: str
  connect_timeout:
    description:
      - Seconds libpq waits for a connection.
    type: int
    default: 10
requirements:
  - psycopg2 and the PostgreSQL client programs (C(pg_dump), C(pg_restore), C(psql)) of the server's major version
    or newer on the host that runs the module.
'''
