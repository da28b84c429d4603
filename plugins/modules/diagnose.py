#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: diagnose
short_description: Find which of the runbook's common issues QuickBite has, with the evidence and the fix
version_added: 0.3.0
description:
  - The runbook's "Common Issues & Fixes" as checks run side by side, each bounded by its own time limit
    (O(check_timeouts)). Every check returns findings, one per question it answers, each with the runbook section,
    C(OK), C(PROBLEM) or C(SKIPPED), the evidence, and the playbook that fixes it.
  - C(connection_refused) is the database service running and ready; which database address the backend's
    running container or pod uses (its environment, Kubernetes envFrom and secretKeyRef resolved, secrets
    masked); whether it matches where PostgreSQL listens; a TCP connect from inside the backend; the backend's
    last exit and log lines classified (connection refused, password authentication failed, unknown database,
    failed Flyway migration, OOMKilled).
  - C(webhook) a correctly signed test event accepted, a wrongly signed one refused, and the same event
    re-serialized (other whitespace and key order) and signed over the new bytes, which tells a backend that
    verifies the raw body from one that verifies parsed JSON; the configured secret's fingerprint against the
    running backend's and the payment dashboard's (O(webhook_dashboard_secret)).
  - Other checks register themselves in plugins/module_utils/diagnose/ (see docs/procedures/diagnose.md).
  - Read-only. Secret values are masked in every finding; secrets are compared by fingerprint only.
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
  select:
    description:
      - Checks to run by name; every registered check when empty.
    type: list
    elements: str
    default: []
  thresholds:
    description:
      - Thresholds of the checks by name, each a number above 0; unset ones keep the defaults the checks register.
    type: dict
    default: {}
  check_timeouts:
    description:
      - Seconds each check may take, by check name; a check that takes longer is reported as a problem that did
        not finish, and the run goes on.
    type: dict
    default: {}
  backend_service:
    description:
      - The backend's service name.
    type: str
    default: backend
  frontend_service:
    description:
      - The frontend's (nginx) service name.
    type: str
    default: frontend
  webhook_path:
    description:
      - Path of the payment webhook on O(backend_url).
    type: str
    default: /api/payments/webhook
  webhook_dashboard_secret:
    description:
      - The webhook secret as the payment provider's dashboard shows it; only its fingerprint is compared and
        returned.
    type: str
  fail:
    description:
      - Fail the task when a problem is found; C(false) only reports.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Diagnose the Compose host, report only
  quickbite.ops.diagnose:
    platform: compose
    project_dir: /opt/quickbite
    fail: false
  register: diagnosis

- name: Only the payment webhook, against the dashboard's secret
  quickbite.ops.diagnose:
    platform: k8s
    namespace: quickbite
    select: [webhook]
    webhook_dashboard_secret: "{{ vault_razorpay_webhook_secret }}"
'''

RETURN = r'''
findings:
  description: Every finding with C(check), C(section), C(status) (OK, PROBLEM, SKIPPED), C(summary), C(evidence),
    C(fix) (a playbook name or null), C(fix_note) and its report C(line).
  returned: always
  type: list
  elements: dict
problems:
  description: The findings whose status is PROBLEM.
  returned: always
  type: list
  elements: dict
report_lines:
  description: 'One line per finding (C(<section>: OK|PROBLEM - <evidence> -> run playbooks/<fix>.yml)), then a summary.'
  returned: always
  type: list
  elements: str
checks:
  description: The checks that ran.
  returned: always
  type: list
  elements: str
summary:
  description: How many problems the checks found.
  returned: always
  type: str
target:
  description: What was examined.
  returned: always
  type: str
platform:
  description: C(compose) or C(k8s).
  returned: always
  type: str
durations_ms:
  description: Milliseconds each check took, by check name.
  returned: always
  type: dict
elapsed:
  description: Seconds the checks took.
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import service
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.options import diagnose_argument_spec, \
    diagnose_settings
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory


def main():
    module = AnsibleModule(argument_spec=diagnose_argument_spec(), supports_check_mode=True)
    run_module(module, diagnose)


def diagnose(module):
    adapter = factory.get_adapter(module)
    result = service.run(adapter, diagnose_settings(module, adapter))
    if result['problems'] and module.params['fail']:
        result.update(failed=True, msg='%s: %s' % (result['summary'], '; '.join(p['line'] for p in result['problems'])))
    return result


if __name__ == '__main__':
    main()
