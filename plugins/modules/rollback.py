#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: rollback
short_description: Roll a QuickBite service back to its previous version
version_added: 0.1.0
description:
  - The P1 checklist's "Rollback if needed" step.
  - "Kubernetes: C(kubectl rollout undo): the pod template of the previous revision, or of O(to), is put back and the
    rollout waited for. The revision found before is recorded on the Deployment (C(quickbite.ops/previous-revision))
    and the result names both."
  - "Compose: the collection records each service's image before it restarts or recreates it
    (C(<project_dir>/.quickbite-ops/history.json)). Rollback pins the service to the newest recorded image that differs
    from the running one, or to O(to), in C(<project_dir>/.quickbite-ops/rollback.override.yml) and recreates it.
    Every later Compose command of this collection uses that file; O(unpin=true) removes the pin."
  - Rolling back a rollback returns to the version before it.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.wait
attributes:
  check_mode:
    support: full
    description: Names the version it would roll back to, chosen exactly as a real run chooses.
  diff_mode:
    support: none
    description: The result names the versions before and after.
options:
  service:
    description:
      - Service to roll back.
    type: str
    default: backend
  to:
    description:
      - Kubernetes, a revision number; Compose, an image reference or ID from the recorded history.
        The previous one when omitted.
    type: str
  unpin:
    description:
      - Compose only. Remove the rollback pin so the service follows the compose file again, and recreate it.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Roll the backend back to the previous revision
  quickbite.ops.rollback:
    platform: k8s

- name: Roll back to revision 3
  quickbite.ops.rollback:
    platform: k8s
    to: "3"
'''

RETURN = r'''
before:
  description: The service before (image, image ID, revision, replicas).
  returned: always
  type: dict
after:
  description: The service after the rollback.
  returned: changed
  type: dict
history:
  description: Recorded images (Compose) or kept revisions (Kubernetes), oldest first.
  returned: always
  type: list
  elements: dict
msg:
  description: What was done, naming both versions.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.common import run_on_target
from ansible_collections.quickbite.ops.plugins.module_utils.ops import rollback


def main():
    module = AnsibleModule(argument_spec=options.argument_spec(
        options.platform_argument_spec(), options.wait_argument_spec(),
        service=dict(type='str', default='backend'),
        to=dict(type='str'),
        unpin=dict(type='bool', default=False),
    ), supports_check_mode=True)
    run_on_target(module, 'roll back %s' % module.params['service'], roll_back)


def roll_back(module, adapter):
    p = module.params
    return rollback.run(adapter, p['service'], p['to'], p['unpin'], p['wait_timeout'], module.check_mode)


if __name__ == '__main__':
    main()
