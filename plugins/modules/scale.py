#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: scale
short_description: Scale a QuickBite service horizontally and wait until the replicas are ready
version_added: 0.1.0
description:
  - The runbook's horizontal Scaling on either platform. Compose runs C(up -d --no-deps --scale <service>=N <service>)
    (replicas of a host-networked service share its port); Kubernetes patches the Deployment's scale subresource.
  - Waits until exactly O(replicas) replicas are ready. Scaling to the current, fully ready count changes nothing.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Reports the change it would make, from the same comparison as a real run.
  diff_mode:
    support: none
    description: The result names the replica counts before and after.
options:
  service:
    description:
      - Service to scale.
    type: str
    default: backend
  replicas:
    description:
      - Wanted number of replicas, 0 to 50.
    type: int
    required: true
  wait_timeout:
    description:
      - Seconds to wait until the replicas are ready.
    type: int
    default: 300
'''

EXAMPLES = r'''
- name: Scale the backend to five replicas
  quickbite.ops.scale:
    platform: k8s
    replicas: 5
'''

RETURN = r'''
before:
  description: Replica count found before the change.
  returned: always
  type: int
replicas:
  description: Wanted replica count.
  returned: always
  type: int
msg:
  description: What was done or would be done.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import platform_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.ops import scale
from ansible_collections.quickbite.ops.plugins.module_utils.platform.factory import get_adapter


def main():
    spec = platform_argument_spec()
    spec.update(
        service=dict(type='str', default='backend'),
        replicas=dict(type='int', required=True),
        wait_timeout=dict(type='int', default=300),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        result = scale.run(get_adapter(module), p['service'], p['replicas'], p['wait_timeout'], module.check_mode)
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
