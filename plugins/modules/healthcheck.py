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
  - quickbite.ops.backend
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.health
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  services:
    description:
      - Services whose containers or pods the C(platform) check looks at; all services when empty.
    type: list
    elements: str
    default: []
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

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.health import service
from ansible_collections.quickbite.ops.plugins.module_utils.health.options import health_argument_spec, health_settings
from ansible_collections.quickbite.ops.plugins.module_utils.options import (argument_spec, platform_argument_spec,
                                                                            require_at_least)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(), health_argument_spec(),
        services=dict(type='list', elements='str', default=[]),
        timeout=dict(type='int', default=0),
        interval=dict(type='int', default=2),
    ), supports_check_mode=True)
    run_module(module, check)


def check(module):
    """The report; a report that is not UP fails the task with its summary."""
    p = module.params
    require_at_least(p, 0, 'timeout', 'interval')
    adapter = factory.get_adapter(module)
    settings = health_settings(module, adapter, services=p['services'])
    report = service.run(adapter, settings, timeout=p['timeout'], interval=p['interval'])
    if report['status'] != 'UP':
        return dict(report, changed=False, failed=True, msg=report['summary'])
    return dict(report, changed=False)


if __name__ == '__main__':
    main()
