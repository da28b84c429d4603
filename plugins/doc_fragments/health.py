# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with health.options.health_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  checks:
    description:
      - Checks to run.
    type: list
    elements: str
    choices: [actuator, db, redis, frontend, platform]
    default: [actuator, db, redis, frontend, platform]
  backend_url:
    description:
      - Base URL of the backend; C(/actuator/health) is appended.
    type: str
    default: http://127.0.0.1:8080
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
  db_host:
    description:
      - Database host as reached from the managed host.
    type: str
    default: 127.0.0.1
  db_port:
    description:
      - Database port.
    type: int
    default: 5432
  db_name:
    description:
      - Database name; C(DB_NAME) from the configuration, else C(quickbite), when omitted.
    type: str
  db_user:
    description:
      - Database user; C(DB_USER) from the configuration, else C(quickbite), when omitted.
    type: str
  db_password:
    description:
      - Database password; C(DB_PASSWORD) from the configuration when omitted.
    type: str
  db_sslmode:
    description:
      - libpq's C(sslmode) for the database check; C(require) and the C(verify) modes refuse a server without SSL.
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  db_sslrootcert:
    description:
      - PEM file of the certificate authorities for O(db_sslmode=verify-ca) or O(db_sslmode=verify-full); libpq's
        default when omitted.
    type: path
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
  validate_certs:
    description:
      - Verify TLS certificates of the backend and frontend URLs.
    type: bool
    default: true
  mask_keys:
    description:
      - Shell-style patterns (case-insensitive) of the configuration keys (env file or Secret) whose values are secrets.
        Their values are replaced by C(********) in the last log lines reported for failing services, whichever service
        printed them. Read only when the platform check reports log lines; an empty list masks nothing.
    type: list
    elements: str
    default: ['*SECRET*', '*PASSWORD*', '*TOKEN*', '*KEY*']
'''
