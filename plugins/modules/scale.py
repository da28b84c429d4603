#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: scale
short_description: Scale a QuickBite service, horizontally or (Kubernetes) vertically, and wait until it is ready
version_added: 0.1.0
description:
  - The runbook's horizontal Scaling on either platform. Compose runs C(up -d --no-deps --scale <service>=N <service>)
    (replicas of a host-networked service share its port); Kubernetes patches the Deployment's scale subresource.
  - Waits until exactly O(replicas) replicas are ready. Scaling to the current, fully ready count changes nothing.
  - "Refuses, changing nothing: more than one replica of a stateful service (O(stateful_services) and O(db_service))
    that O(replicated_services) does not list, since its replicas would share one data volume; and 0 replicas of any
    service unless O(confirm) equals the service's name. Check mode predicts a scale to 0 without the confirmation
    and warns that a real run needs it."
  - Vertical (Kubernetes), with O(resources) instead of O(replicas), sets CPU and memory requests and limits of one
    container of the Deployment (a rolling update), and with O(manifest) writes the same values into that
    Deployment in the repository manifest (such as C(k8s/deploy.yaml)), so the repository and the cluster agree.
    Quantities are validated (and requests compared with limits) before anything changes. The manifest is rewritten
    through a YAML round trip, which does not keep comments.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.wait
attributes:
  check_mode:
    support: full
    description: Reports the change it would make, from the same comparison as a real run.
  diff_mode:
    support: full
    description: Vertical scaling returns the resources before and after as a diff.
options:
  service:
    description:
      - Service to scale.
    type: str
    default: backend
  replicas:
    description:
      - Wanted number of replicas, 0 to 50. One of O(replicas) and O(resources) is required.
    type: int
  confirm:
    description:
      - Must equal O(service) to scale it to 0 replicas (as M(quickbite.ops.pg_restore)'s confirmation names its
        target).
    type: str
    default: ''
  stateful_services:
    description:
      - Services that keep state in one volume (databases, caches with persistence). O(db_service) is one of them too.
        They are never scaled above one replica unless O(replicated_services) lists them.
    type: list
    elements: str
    default: [postgres, redis]
  db_service:
    description:
      - The database service (inventory C(quickbite_db_service)), counted as stateful.
    type: str
    default: postgres
  replicated_services:
    description:
      - Stateful services that run real replication, so that several replicas do not share one data directory.
    type: list
    elements: str
    default: []
  resources:
    description:
      - Kubernetes only. C(requests) and/or C(limits), each with C(cpu) and/or C(memory), as in the example below.
    type: dict
  container:
    description:
      - Container whose resources are set; the first container of the pod template when omitted.
    type: str
  manifest:
    description:
      - Path of a manifest on the managed host holding the Deployment, updated with the same resources.
    type: path
'''

EXAMPLES = r'''
- name: Scale the backend to five replicas
  quickbite.ops.scale:
    platform: k8s
    replicas: 5

- name: Give the backend more CPU and memory, in the cluster and in the repository
  quickbite.ops.scale:
    platform: k8s
    resources:
      requests: {cpu: 500m, memory: 1Gi}
      limits: {cpu: "2", memory: 2Gi}
    manifest: /srv/quickbite/k8s/deploy.yaml

- name: Stop the frontend (0 replicas need the service's name as confirmation)
  quickbite.ops.scale:
    platform: compose
    service: frontend
    replicas: 0
    confirm: frontend
'''

RETURN = r'''
before:
  description: Replica count (horizontal) or container resources (vertical) found before the change.
  returned: always
  type: raw
replicas:
  description: Wanted replica count.
  returned: when O(replicas) is given
  type: int
msg:
  description: What was done or would be done.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_on_target
from ansible_collections.quickbite.ops.plugins.module_utils.ops import scale
from ansible_collections.quickbite.ops.plugins.module_utils.options import (argument_spec, platform_argument_spec,
                                                                            wait_argument_spec)


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(), wait_argument_spec(),
        service=dict(type='str', default='backend'),
        replicas=dict(type='int'),
        confirm=dict(type='str', default=''),
        stateful_services=dict(type='list', elements='str', default=list(scale.STATEFUL_SERVICES)),
        db_service=dict(type='str', default='postgres'),
        replicated_services=dict(type='list', elements='str', default=[]),
        resources=dict(type='dict'),
        container=dict(type='str'),
        manifest=dict(type='path'),
    ), supports_check_mode=True,
        required_one_of=[('replicas', 'resources')], mutually_exclusive=[('replicas', 'resources')])
    run_on_target(module, 'scale %s' % module.params['service'], scale_service)


def scale_service(module, adapter):
    p = module.params
    if p['resources'] is not None:
        return scale.run_vertical(adapter, p['service'], p['container'], p['resources'],
                                  p['manifest'], p['wait_timeout'], module.check_mode)
    guards = scale.Guards(p['stateful_services'], p['db_service'], p['replicated_services'], p['confirm'])
    return scale.run(adapter, p['service'], p['replicas'], p['wait_timeout'], module.check_mode, guards)


if __name__ == '__main__':
    main()
