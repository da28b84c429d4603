#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: db_password_rotate
short_description: Rotate the QuickBite database password, verified by logins and health, rolled back on failure
version_added: 0.1.0
description:
  - The runbook's Database Password rotation (update it in PostgreSQL, in C(DB_PASSWORD), restart, check health).
  - "Create: a strong random password (256 bits), or O(new_password). Set: C(ALTER ROLE ... PASSWORD) through an
    admin connection with a SCRAM-SHA-256 verifier computed here, so the clear password never reaches the server or
    its logs; then C(DB_PASSWORD) in the env file (one line, atomically) or only that key of the Secret; then the
    backend is recreated or rolled."
  - "Test: the db component of the actuator health UP, a login with the new password works and one with the old
    password fails. On failure the old password goes back into the database and the configuration, the backend is
    restarted and health checked. Pending state, lock, audit log and resume as in M(quickbite.ops.jwt_rotate)."
  - "With O(access=exec) (no port-forward): the C(ALTER ROLE) runs through C(psql) inside the O(db_service) container
    or pod as C(postgres) over its local socket (no admin password), and the login tests run there too, with
    C(psql)'s C(\\connect) to C(DB_HOST):C(DB_PORT) of the configuration (the address the backend uses; else
    O(db_host):O(db_port)), the connection string on C(psql)'s stdin: no password in any command line. That address
    must be one where C(pg_hba.conf) asks for a password (C(trust) for the pod's loopback, as the official image has
    it, makes the old password still log in and the rotation roll back)."
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.wait
  - quickbite.ops.rotation
  - quickbite.ops.database
  - quickbite.ops.database_admin
  - quickbite.ops.database_access
requirements:
  - psycopg2 on the host that runs the module.
options:
  new_password:
    description:
      - The new password (vaulted). Generated when omitted.
      - Printable ASCII only (the SCRAM-SHA-256 verifier is computed here, without SASLprep), and it must fit on one
        line of the env file; anything else is refused before any change.
      - Resuming an interrupted rotation with another value is refused.
    type: str
'''

EXAMPLES = r'''
- name: Rotate the database password
  quickbite.ops.db_password_rotate:
    platform: compose
    project_dir: /opt/quickbite
    db_port: 5432

- name: Rotate it on Kubernetes through the postgres pod (no port-forward)
  quickbite.ops.db_password_rotate:
    platform: k8s
    namespace: quickbite
    access: exec
    backend_url: https://api.quickbite.example
'''

RETURN = r'''
outcome:
  description: C(rotated), C(unchanged), C(abandoned) (O(abandon_pending)), or in check mode C(would rotate) /
    C(would resume) / C(would abandon).
  returned: always
  type: str
old_fingerprint:
  description: First 8 hex characters of the SHA-256 of the old password.
  returned: always
  type: str
new_fingerprint:
  description: First 8 hex characters of the SHA-256 of the new password.
  returned: always
  type: str
checks:
  description: The tests run after the change, each with C(check), C(ok) and C(evidence). C(health actuator) and
    C(health platform), then C(login with the new password) and C(login with the old password refused) (C(login with
    the restored password) after a put-back).
  returned: always
  type: list
  elements: dict
actions:
  description: The names of the steps taken, in order (C(create) or C(resume), C(set external) (the role's
    password), C(set), C(restart), C(test), C(finish); C(abandon), C(put back), C(restore external) or C(drop);
    C(rollback)). In check mode, those a run would take when its tests pass, from the same decision.
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

from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import access_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import require_psycopg2
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import engine, procedures, specs


def main():
    module = AnsibleModule(argument_spec=procedures.module_argument_spec(
        options.database_argument_spec(), options.database_admin_argument_spec(), access_argument_spec(),
        new_password=dict(type='str', no_log=True),
    ), supports_check_mode=True)
    procedures.refuse_together(module, 'abandon_pending', 'drops an interrupted rotation and sets no new password',
                               dict(abandon_pending='rotate_db_password_abandon_pending',
                                    new_password='rotate_db_password_new'))
    require_psycopg2(module)
    engine.run_module(module, specs.db_password, module.params['new_password'] or None)


if __name__ == '__main__':
    main()
