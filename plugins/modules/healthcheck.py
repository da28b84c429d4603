#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: healthcheck
short_description: Check that a QuickBite deployment is healthy, end to end
version_added: 0.1.0
description:
  - The runbook's C(./ops/healthcheck.sh) and the first, third and fourth steps of its P1 checklist in one task.
  - Checks Spring Boot Actuator health (status and every component UP), the database with C(SELECT 1),
    Redis with C(PING) (and C(AUTH) when a password is set), the frontend index and a deep single-page-app route,
    and the state of every container (Compose) or pod (Kubernetes), with the last log lines of any that fail.
  - Retries until O(timeout) so it can follow a restart; fails with one message that lists each failed check
    and its evidence.
  - Database and Redis passwords default to C(DB_PASSWORD) and C(REDIS_PASSWORD) read from the env file
    (Compose) or the Secret (Kubernetes), so the inventory need not hold them. They never appear in output.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  checks:
    description:
      - Checks to run.
    type: list
    elements: str
    choices: [actuator, db, redis, frontend, platform]
    default: [actuator, db, redis, frontend, platform]
  services:
    description:
      - Services whose containers or pods the C(platform) check looks at; all services when empty.
    type: list
    elements: str
    default: []
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
  timeout:
    description:
      - Seconds to keep retrying until every check is UP. C(0) runs the checks once.
    type: int
    default: 0
  interval:
    description:
      - Seconds between attempts.
    type: int
    default: 2
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
'''

EXAMPLES = r'''
- name: Check QuickBite on the Compose host
  quickbite.ops.healthcheck:
    platform: compose
    project_dir: /opt/quickbite
    backend_url: http://127.0.0.1:8080
    frontend_url: http://127.0.0.1

- name: Wait up to two minutes for health after a rolling restart
  quickbite.ops.healthcheck:
    platform: k8s
    namespace: quickbite
    backend_url: https://api.quickbite.example
    frontend_url: https://quickbite.example
    checks: [actuator, frontend, platform]
    timeout: 120

- name: Only Redis, with a vaulted password
  quickbite.ops.healthcheck:
    platform: compose
    checks: [redis]
    redis_password: "{{ vault_quickbite_redis_password }}"
'''

RETURN = r'''
status:
  description: C(UP) when every check passed, else C(DOWN).
  returned: always
  type: str
  sample: UP
summary:
  description: One human-readable line (or, on failure, one line per failed check with its evidence).
  returned: always
  type: str
checks:
  description: One entry per check with C(status), C(evidence), C(details) and C(duration_ms).
  returned: always
  type: dict
  sample: {"redis": {"status": "UP", "evidence": "PING to redis at 127.0.0.1:6379 answered PONG",
           "details": {}, "duration_ms": 2}}
failed_checks:
  description: Names of the checks that failed on the last attempt.
  returned: always
  type: list
  elements: str
attempts:
  description: How many times the checks ran.
  returned: always
  type: int
elapsed:
  description: Seconds spent, retries included.
  returned: always
  type: float
target:
  description: What was checked (project directory or namespace and API server).
  returned: always
  type: str
platform:
  description: C(compose) or C(k8s).
  returned: always
  type: str
report_lines:
  description: The report as readable lines, one per check, evidence of failed checks below them.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import (
    platform_argument_spec, register_secrets)
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError, ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.health import service
from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter


def argument_spec():
    spec = platform_argument_spec()
    spec.update(
        checks=dict(type='list', elements='str', choices=list(service.ALL_CHECKS),
                    default=list(service.ALL_CHECKS)),
        services=dict(type='list', elements='str', default=[]),
        backend_url=dict(type='str', default='http://127.0.0.1:8080'),
        frontend_url=dict(type='str', default='http://127.0.0.1'),
        frontend_deep_route=dict(type='str', default='/some/deep/route'),
        db_host=dict(type='str', default='127.0.0.1'),
        db_port=dict(type='int', default=5432),
        db_name=dict(type='str'),
        db_user=dict(type='str'),
        db_password=dict(type='str', no_log=True),
        redis_host=dict(type='str', default='127.0.0.1'),
        redis_port=dict(type='int', default=6379),
        redis_password=dict(type='str', no_log=True),
        timeout=dict(type='int', default=0),
        interval=dict(type='int', default=2),
        request_timeout=dict(type='int', default=5),
        log_lines=dict(type='int', default=20),
        validate_certs=dict(type='bool', default=True),
    )
    return spec


def _configured(module, adapter, option, key, fallback=None):
    """Explicit option first, then the deployment's own configuration."""
    if module.params[option] is not None:
        return module.params[option]
    try:
        value = adapter.get_config(key)
    except QuickbiteError as exc:
        raise ConfigError('cannot read %s (needed for %s) from %s: %s; or set quickbite_%s in the inventory'
                          % (key, option, adapter.describe(), exc.msg, option))
    return value if value not in (None, '') else fallback


def build_settings(module, adapter):
    p = module.params
    for name in ('timeout', 'interval', 'request_timeout', 'log_lines'):
        if p[name] < 0:
            raise ConfigError('%s must be 0 or more, got %d' % (name, p[name]))
    db, redis = {}, {}
    if 'db' in p['checks']:
        db = dict(host=p['db_host'], port=p['db_port'],
                  name=_configured(module, adapter, 'db_name', 'DB_NAME', 'quickbite'),
                  user=_configured(module, adapter, 'db_user', 'DB_USER', 'quickbite'),
                  password=_configured(module, adapter, 'db_password', 'DB_PASSWORD'))
        register_secrets(module, db['password'])
    if 'redis' in p['checks']:
        redis = dict(host=p['redis_host'], port=p['redis_port'],
                     password=_configured(module, adapter, 'redis_password', 'REDIS_PASSWORD'))
        register_secrets(module, redis['password'])
    return service.HealthSettings(
        checks=p['checks'], backend_url=p['backend_url'], frontend_url=p['frontend_url'],
        frontend_deep_route=p['frontend_deep_route'], db=db, redis=redis, services=p['services'],
        request_timeout=p['request_timeout'], log_lines=p['log_lines'],
        validate_certs=p['validate_certs'])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        adapter = get_adapter(module)
        settings = build_settings(module, adapter)
        report = service.run(adapter, settings, timeout=module.params['timeout'],
                             interval=module.params['interval'])
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    if report['status'] != 'UP':
        module.fail_json(msg=report['summary'], changed=False, **report)
    module.exit_json(changed=False, **report)


if __name__ == '__main__':
    main()
