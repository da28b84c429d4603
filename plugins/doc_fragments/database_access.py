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
      - C(exec) runs them inside the database, for databases not reachable from the host, over the local socket as
        C(postgres); O(db_port) is then the port inside the container. Data still streams through the host, where
        compression, checksums and files stay. The directory format needs C(libpq).
      - On Compose, C(exec) uses C(docker compose exec -T --user postgres) in the O(db_service) container (peer
        authentication).
      - On Kubernetes, C(exec) runs in a Running and Ready pod of the O(db_service) Deployment through the API
        server's exec (as C(kubectl exec -i)), as the container's user (exec cannot switch users). Restores and SQL
        need the C(v5.channel.k8s.io) protocol to close stdin (Kubernetes 1.30 or later); the kubeconfig user needs
        C(get) and C(create) on C(pods/exec).
    type: str
    default: libpq
    choices: [libpq, exec]
  db_service:
    description:
      - Service of PostgreSQL for O(access=exec). On Compose the service; on Kubernetes the service mapped to a
        Deployment by O(deployments), or a Deployment name.
    type: str
    default: postgres
  pg_bin_dir:
    description:
      - Directory of C(pg_dump), C(pg_restore) and C(psql) on the host when they are not on C(PATH) (such as
        C(/usr/lib/postgresql/15/bin)); their major version must be the server's or newer.
    type: path
  exec_timeout:
    description:
      - With O(access=exec), seconds each SQL statement run through C(psql) in the container (snapshot, row counts,
        create, drop, rename, checks) may take. PostgreSQL cancels it then (C(statement_timeout)) and the module kills
        C(psql) and fails, instead of waiting for ever on a lock or a hung session. C(pg_dump) and C(pg_restore) are
        not bound by it.
    type: int
    default: 600
'''
