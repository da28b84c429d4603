#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: jwt_rotate
short_description: Rotate QuickBite's JWT secret, verified by the backend, rolled back on failure
version_added: 0.1.0
description:
  - The runbook's JWT Secret rotation, as create, set, test, finish.
  - "Create: 256 random bits as 64 hex characters (C(openssl rand -hex 32)), or O(new_secret). The pending rotation
    (old and new value) is stored before anything changes: on Compose in C(<project_dir>/.quickbite-ops/) (mode 0600,
    beside the env file), on Kubernetes in Secret C(quickbite-ops-state)."
  - "Set: Compose rewrites the C(JWT_SECRET) line of the env file atomically, every other line byte for byte, mode
    and owner kept, then recreates the backend (C(up -d --no-deps)); Kubernetes patches only the C(JWT_SECRET) key of
    the Secret, every other key untouched, then rolls the backend."
  - "Test: health UP, a token signed with the new secret accepted, one signed with the old secret refused (401), or
    still accepted with O(keep_previous=true), which keeps the old secret as C(JWT_SECRET_PREVIOUS) for a grace period."
  - "Finish, or on a failed test put the old secret back, restart, check health and fail with the reason. A run killed
    part-way is resumed by the next run, which finishes or rolls back. A lock keeps two rotations apart; every
    outcome is appended to O(audit_log) with fingerprints, never values."
  - Without O(keep_previous), every user must log in again, as the runbook says.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.rotation
options:
  new_secret:
    description:
      - The new secret (vaulted). Generated when omitted.
    type: str
  keep_previous:
    description:
      - Keep the old secret as C(JWT_SECRET_PREVIOUS) so tokens signed with it stay valid until they expire.
    type: bool
    default: false
  probe_path:
    description:
      - A protected endpoint that answers 200 to a valid token and 401 otherwise.
    type: str
    default: /api/orders
'''

EXAMPLES = r'''
- name: Rotate the JWT secret (every user logs in again)
  quickbite.ops.jwt_rotate:
    platform: compose
    project_dir: /opt/quickbite
    backend_url: http://127.0.0.1:8080

- name: Rotate, keeping old tokens valid for a grace period
  quickbite.ops.jwt_rotate:
    platform: k8s
    backend_url: https://api.quickbite.example
    keep_previous: true
'''

RETURN = r'''
outcome:
  description: C(rotated), C(unchanged), or in check mode C(would rotate) / C(would resume).
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
  description: The tests run after the change, each with C(check), C(ok) and C(evidence).
  returned: always
  type: list
  elements: dict
steps:
  description: What was done, with times.
  returned: always
  type: list
  elements: str
msg:
  description: What happened.
  returned: always
  type: str
report_lines:
  description: The outcome and each test with its evidence, as readable lines.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import platform_argument_spec, register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import jwt, procedures


def main():
    spec = platform_argument_spec()
    spec.update(procedures.rotation_argument_spec())
    spec.update(
        new_secret=dict(type='str', no_log=True),
        keep_previous=dict(type='bool', default=False),
        probe_path=dict(type='str', default='/api/orders'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        adapter = get_adapter(module)
        previous_now = adapter.get_config('JWT_SECRET_PREVIOUS')
        register_secrets(module, previous_now)
        url = p['backend_url'].rstrip('/') + p['probe_path']

        def extra(old, new):
            # Only the keys that must change: a Secret without JWT_SECRET_PREVIOUS keeps not having it.
            if p['keep_previous']:
                return {'JWT_SECRET_PREVIOUS': old}
            return {'JWT_SECRET_PREVIOUS': ''} if previous_now else {}

        def test(old, new):
            checks = procedures.health_checks(adapter, p['backend_url'], p['wait_timeout'], p['validate_certs'])
            if not all(c[1] for c in checks):
                return checks
            return checks + jwt.token_checks(url, old, new, p['keep_previous'], p['validate_certs'])

        new = p['new_secret'] or (None if module.check_mode else jwt.new_secret())
        result = procedures.execute(module, adapter, 'JWT_SECRET', new, test, extra=extra)
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    if result['outcome'] == 'rotated' and not p['keep_previous']:
        result['msg'] += '; every user must log in again (tokens signed with the old secret are refused)'
        result['report_lines'][0] = result['msg']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
