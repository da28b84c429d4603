# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with db.client.access_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  access:
    description:
      - C(libpq) runs C(pg_dump), C(pg_restore) and C(psql) on the host that runs the module, connected to
        O(db_host):O(db_port).
      - C(exec) (Compose) runs them inside the O(db_service) container with C(docker compose exec -T --user postgres),
        over its local socket with peer authentication, for databases not reachable from the host; O(db_port) is then
        the port inside the container. Data still streams through the host, where compression, checksums and files
        stay. The directory format needs C(libpq).
    type: str
    default: libpq
    choices: [libpq, exec]
  db_service:
    description:
      - Compose service of PostgreSQL, for O(access=exec).
    type: str
    default: postgres
  pg_bin_dir:
    description:
      - Directory of C(pg_dump), C(pg_restore) and C(psql) on the host when they are not on C(PATH) (such as
        C(/usr/lib/postgresql/15/bin)); their major version must be the server's or newer.
    type: path
'''
