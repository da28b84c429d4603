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

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint, platform_argument_spec, register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import jwt, procedures


def main():
    spec = platform_argument_spec()
    spec.update(procedures.rotation_argument_spec())
    spec.update(
        new_secret=dict(type='str', no_log=True),
        keep_previous=dict(type='bool', default=False),
        end_grace=dict(type='bool', default=False),
        probe_path=dict(type='str', default='/api/orders'),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    # Not mutually_exclusive: the role passes every option, false and empty included.
    if p['abandon_pending'] and (p['keep_previous'] or p['new_secret']):
        other = 'keep_previous' if p['keep_previous'] else 'new_secret'
        module.fail_json(msg='abandon_pending drops an interrupted rotation and sets no new secret: it cannot be '
                             'combined with %s (rotate_jwt_abandon_pending with rotate_jwt_%s)' % (other, other))
    if p['end_grace'] and (p['keep_previous'] or p['new_secret']):
        other = 'keep_previous' if p['keep_previous'] else 'new_secret'
        module.fail_json(msg='end_grace ends a grace period and sets no new secret: it cannot be combined with %s '
                             '(rotate_jwt_end_grace with rotate_jwt_%s)' % (other, other))
    try:
        adapter = get_adapter(module)
        previous_now = adapter.get_config('JWT_SECRET_PREVIOUS')
        register_secrets(module, previous_now)
        url = p['backend_url'].rstrip('/') + p['probe_path']
        if p['end_grace']:
            module.exit_json(**end_grace(module, adapter, url, previous_now))
        if adapter.store().load('JWT_SECRET_PREVIOUS'):
            # Resumed later, that end would put back a previous secret older than this rotation's.
            raise ConfigError('an end of the JWT grace period was interrupted in %s; run rotate-jwt.yml with '
                              'rotate_jwt_end_grace=true to finish it first (add rotate_jwt_abandon_pending=true to '
                              'drop it instead)' % adapter.describe())

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

        result = procedures.execute(module, adapter, 'JWT_SECRET', p['new_secret'] or None, test, extra=extra,
                                    abandon=p['abandon_pending'], generate=jwt.new_secret,
                                    hints=procedures.abandon_hints('rotate_jwt', 'rotate_jwt_new_secret'))
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    if result['outcome'] == 'rotated' and not p['abandon_pending']:
        result['msg'] += ('; tokens signed with the old secret stay valid until the grace period is ended '
                          '(end_grace, rotate_jwt_end_grace=true)' if p['keep_previous'] else
                          '; every user must log in again (tokens signed with the old secret are refused)')
        result['report_lines'][0] = result['msg']
    module.exit_json(**result)


def end_grace(module, adapter, url, previous_now):
    """JWT_SECRET_PREVIOUS emptied through the rotation engine (resumable,
    locked, audited, put back when the backend does not confirm it)."""
    p = module.params
    key = 'JWT_SECRET_PREVIOUS'
    if not previous_now and not adapter.store().load(key) and not p['abandon_pending']:
        msg = '%s is empty in %s: no grace period to end' % (key, adapter.describe())
        return dict(changed=False, outcome='unchanged', secret=key, old_fingerprint=None, new_fingerprint=None,
                    steps=[], checks=[], msg=msg, report_lines=[msg])
    if adapter.store().load('JWT_SECRET'):
        raise ConfigError('a rotation of JWT_SECRET was interrupted in %s; run rotate-jwt.yml without end_grace to '
                          'finish it first' % adapter.describe())
    current = adapter.get_config('JWT_SECRET')
    register_secrets(module, current)

    def test(old, new):
        checks = procedures.health_checks(adapter, p['backend_url'], p['wait_timeout'], p['validate_certs'])
        if not all(c[1] for c in checks):
            return checks
        if new is None:  # after a rollback the grace period is in force again
            return checks + jwt.expect_tokens(url, [('token of JWT_SECRET accepted', current, 200),
                                                    ('token of JWT_SECRET_PREVIOUS accepted again', old, 200)],
                                              p['validate_certs'])
        return checks + jwt.grace_end_checks(url, current, old, p['validate_certs'])

    hints = dict(finish='run again with rotate_jwt_end_grace=true', abandon='rotate_jwt_abandon_pending',
                 value='rotate_jwt_end_grace')
    if module.check_mode:
        result = procedures.execute(module, adapter, key, '', test, abandon=p['abandon_pending'], hints=hints)
    else:
        # The target's lock (re-entrant: the rotation engine takes it again inside).
        with adapter.lock('end the JWT grace period'):
            result = procedures.execute(module, adapter, key, '', test, abandon=p['abandon_pending'], hints=hints)
    if result['outcome'] == 'rotated':
        result['msg'] = ('ended the grace period: %s (%s) dropped, verified by the backend; tokens signed with it are '
                         'refused, JWT_SECRET (%s) is unchanged' % (key, result['old_fingerprint'],
                                                                    fingerprint(current)))
        result['report_lines'][0] = result['msg']
    return result


if __name__ == '__main__':
    main()
