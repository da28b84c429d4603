#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: webhook_probe
short_description: Check the payment webhook's signature validation with a signed and a wrongly signed test event
version_added: 0.1.0
description:
  - The runbook's "Payment webhook returning 400" check. Posts a test event (raw JSON body) signed with
    HMAC-SHA256 under the webhook secret in C(X-Razorpay-Signature), which must be accepted (2xx), and the same
    event with a wrong signature, which must be refused (400).
  - The secret defaults to C(PAYMENT_WEBHOOK_SECRET) read from the env file or the Secret; it is never printed.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
attributes:
  check_mode:
    support: full
    description: Sends the same two test events; it changes nothing.
  diff_mode:
    support: none
    description: Nothing is changed.
options:
  path:
    description:
      - Path of the webhook endpoint.
    type: str
    default: /api/payments/webhook
  secret:
    description:
      - The webhook secret to sign with; C(PAYMENT_WEBHOOK_SECRET) from the configuration when omitted.
    type: str
'''

EXAMPLES = r'''
- name: Check webhook signature validation
  quickbite.ops.webhook_probe:
    platform: compose
    backend_url: http://127.0.0.1:8080
'''

RETURN = r'''
checks:
  description: Each probe with C(check), C(ok) and C(evidence).
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets, run_module
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.options import (argument_spec, backend_argument_spec,
                                                                            platform_argument_spec)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import webhook


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(), backend_argument_spec(),
        path=dict(type='str', default='/api/payments/webhook'),
        secret=dict(type='str', no_log=True),
    ), supports_check_mode=True)
    run_module(module, probe)


def probe(module):
    """The two probes; a failed one fails the task with the evidence of each."""
    p = module.params
    secret = p['secret'] or factory.get_adapter(module).get_config('PAYMENT_WEBHOOK_SECRET')
    if not secret:
        raise ConfigError('PAYMENT_WEBHOOK_SECRET is not set in the configuration; pass secret')
    register_secrets(module, secret)
    checks = webhook.probe(p['backend_url'].rstrip('/') + p['path'], secret, p['validate_certs'])
    report = [dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks]
    failed = [c for c in checks if not c[1]]
    if failed:
        return dict(failed=True, msg='webhook check failed: ' + '; '.join(c[2] for c in failed), checks=report)
    return dict(changed=False, checks=report, msg='webhook signature validation works: ' + '; '.join(c[2] for c in checks))


if __name__ == '__main__':
    main()
