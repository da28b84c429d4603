#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: webhook_rotate
short_description: Put a new payment webhook secret in place, verified with signed test events, rolled back on failure
version_added: 0.1.0
description:
  - The runbook's Payment Webhook Secret rotation. The new secret comes from the payment provider's dashboard
    (step 1 of the runbook) and is passed in, vaulted or as an AWX survey password; it is never generated here.
  - Create, set, test, finish as in M(quickbite.ops.jwt_rotate) (pending state, lock, audit log with fingerprints,
    resume after a kill). Set C(PAYMENT_WEBHOOK_SECRET) in the env file or only that key of the Secret, restart the
    backend, then test as M(quickbite.ops.webhook_probe) does; a failed test puts the old secret back.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.wait
  - quickbite.ops.rotation
options:
  new_secret:
    description:
      - The new webhook secret, as set in the provider's dashboard.
      - Required, unless O(abandon_pending=true).
      - Resuming an interrupted rotation needs the same value it was started with; another value is refused.
    type: str
  path:
    description:
      - Path of the webhook endpoint.
    type: str
    default: /api/payments/webhook
'''

EXAMPLES = r'''
- name: Put the secret from the Razorpay dashboard in place
  quickbite.ops.webhook_rotate:
    platform: compose
    new_secret: "{{ vault_payment_webhook_secret }}"
'''

RETURN = r'''
outcome:
  description: C(rotated), C(unchanged), C(abandoned) (O(abandon_pending)), or in check mode C(would rotate) /
    C(would resume) / C(would abandon).
  returned: always
  type: str
old_fingerprint:
  description: First 8 hex characters of the SHA-256 of the old secret.
  returned: always
  type: str
new_fingerprint:
  description: First 8 hex characters of the SHA-256 of the new secret.
  returned: always
  type: str
checks:
  description: The tests run after the change, each with C(check), C(ok) and C(evidence). C(health actuator) and
    C(health platform), then C(signed test event accepted) and C(wrongly signed event refused), signed with the new
    secret (with the old one after a put-back).
  returned: always
  type: list
  elements: dict
actions:
  description: The names of the steps taken, in order (C(create) or C(resume), C(set), C(restart), C(test),
    C(finish); C(abandon), C(put back) or C(drop); C(rollback)). In check mode, those a run would take when its tests
    pass, from the same decision.
  returned: always
  type: list
  elements: str
report_lines:
  description: The outcome and each test with its evidence, as readable lines.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.rotation import engine, procedures, specs


def main():
    module = AnsibleModule(argument_spec=procedures.module_argument_spec(
        new_secret=dict(type='str', no_log=True),
        path=dict(type='str', default='/api/payments/webhook'),
    ), supports_check_mode=True, required_if=[('abandon_pending', False, ('new_secret',))])
    procedures.refuse_together(module, 'abandon_pending', 'drops an interrupted rotation and sets no new secret',
                               dict(abandon_pending='rotate_webhook_secret_abandon_pending',
                                    new_secret='rotate_webhook_secret_new'))
    engine.run_module(module, specs.webhook_secret, module.params['new_secret'])


if __name__ == '__main__':
    main()
