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
  - "O(end_grace=true) ends a grace period instead: C(JWT_SECRET_PREVIOUS) is emptied through the same create, set,
    test, finish (test: a token of C(JWT_SECRET) accepted, one of the dropped previous secret refused), and put back if
    the test fails. C(JWT_SECRET) does not change, so nobody is logged out but holders of old tokens."
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
      - The new secret (vaulted). Generated when omitted.
      - Resuming an interrupted rotation with another value is refused.
    type: str
  keep_previous:
    description:
      - Keep the old secret as C(JWT_SECRET_PREVIOUS) so tokens signed with it stay valid until they expire.
    type: bool
    default: false
  end_grace:
    description:
      - End the grace period of an earlier O(keep_previous=true) rotation, once tokens signed with the old secret have
        expired or must stop working; drop C(JWT_SECRET_PREVIOUS), keep C(JWT_SECRET). No change when
        C(JWT_SECRET_PREVIOUS) is empty.
      - Cannot be combined with O(new_secret) or O(keep_previous).
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

- name: End that grace period (old tokens refused from now on)
  quickbite.ops.jwt_rotate:
    platform: k8s
    backend_url: https://api.quickbite.example
    end_grace: true
'''

RETURN = r'''
outcome:
  description: C(rotated), C(unchanged), C(abandoned) (O(abandon_pending)), or in check mode C(would rotate) /
    C(would resume) / C(would abandon). With O(end_grace),
    C(rotated) means C(JWT_SECRET_PREVIOUS) was emptied.
  returned: always
  type: str
old_fingerprint:
  description: First 8 hex characters of the SHA-256 of the old secret.
  returned: always
  type: str
new_fingerprint:
  description: First 8 hex characters of the SHA-256 of the new secret; C(empty) when O(end_grace) emptied the key.
  returned: always
  type: str
checks:
  description: The tests run after the change, each with C(check), C(ok) and C(evidence). C(health actuator) and
    C(health platform), then C(new token accepted) and C(old token refused) (C(old token still accepted
    (JWT_SECRET_PREVIOUS)) with O(keep_previous)); with O(end_grace), C(token of JWT_SECRET accepted) and C(token of
    the dropped JWT_SECRET_PREVIOUS refused). After a put-back, the old value's token accepted.
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

SETS_NO_SECRET = dict(keep_previous='rotate_jwt_keep_previous', new_secret='rotate_jwt_new_secret')


def main():
    module = AnsibleModule(argument_spec=procedures.module_argument_spec(
        new_secret=dict(type='str', no_log=True),
        keep_previous=dict(type='bool', default=False),
        end_grace=dict(type='bool', default=False),
        probe_path=dict(type='str', default='/api/orders'),
    ), supports_check_mode=True)
    p = module.params
    procedures.refuse_together(module, 'abandon_pending', 'drops an interrupted rotation and sets no new secret',
                               dict(abandon_pending='rotate_jwt_abandon_pending', **SETS_NO_SECRET))
    procedures.refuse_together(module, 'end_grace', 'ends a grace period and sets no new secret',
                               dict(end_grace='rotate_jwt_end_grace', **SETS_NO_SECRET))
    engine.run_module(module, specs.jwt_grace_end if p['end_grace'] else specs.jwt_secret, p['new_secret'] or None)


if __name__ == '__main__':
    main()
