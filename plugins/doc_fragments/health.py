# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The health check's own options, paired with the ones health.options.health_argument_spec() declares
    # itself; change both together. It merges the backend, database and database.login groups too: a module
    # that runs the check extends quickbite.ops.backend, quickbite.ops.database and quickbite.ops.database.login.
    DOCUMENTATION = r'''
options:
  checks:
    description:
      - Checks to run.
    type: list
    elements: str
    choices: [actuator, db, redis, frontend, platform]
    default: [actuator, db, redis, frontend, platform]
  frontend_url:
    description:
      - Base URL of the frontend (nginx).
    type: str
    default: http://127.0.0.1
  frontend_deep_route:
    description:
      - A client-side route that nginx must answer with the app (history fallback).
    type: str
    default: /some/deep/route
  redis_host:
    description:
      - Redis host as reached from the managed host.
    type: str
    default: 127.0.0.1
  redis_port:
    description:
      - Redis port.
    type: int
    default: 6379
  redis_password:
    description:
      - Redis password; C(REDIS_PASSWORD) from the configuration when omitted. No C(AUTH) when both are empty.
    type: str
  db_access:
    description:
      - Where the C(db) check runs. C(libpq) connects from the host that runs the module to O(db_host):O(db_port);
        C(exec) runs C(psql) inside the O(db_service) container or pod (Compose C(exec -T --user postgres),
        Kubernetes the API server's exec, no port-forward) over its local socket as postgres, with O(db_port) the
        port inside. Inventory C(quickbite_db_access).
    type: str
    choices: [libpq, exec]
    default: libpq
  redis_access:
    description:
      - Where the C(redis) check runs. C(tcp) connects to O(redis_host):O(redis_port); C(exec) runs C(redis-cli)
        inside the O(redis_service) container or pod, C(AUTH) and C(PING) on its stdin (the password never in
        argv), with O(redis_port) the port inside. Inventory C(quickbite_redis_access).
    type: str
    choices: [tcp, exec]
    default: tcp
  db_service:
    description:
      - The database service, for O(db_access=exec).
    type: str
    default: postgres
  redis_service:
    description:
      - The Redis service, for O(redis_access=exec).
    type: str
    default: redis
  request_timeout:
    description:
      - Seconds each single request or connection may take.
    type: int
    default: 5
  log_lines:
    description:
      - Last log lines reported for each failing service. C(0) reports none.
    type: int
    default: 20
  mask_keys:
    description:
      - Shell-style patterns (case-insensitive) of the configuration keys (env file or Secret) whose values are secrets.
        Their values are replaced by C(********) in the last log lines reported for failing services, whichever service
        printed them. Read only when the platform check reports log lines; an empty list masks nothing.
    type: list
    elements: str
    default: ['*SECRET*', '*PASSWORD*', '*TOKEN*', '*KEY*']
'''
