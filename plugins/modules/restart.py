#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: restart
short_description: Restart QuickBite services, the whole stack, or one container or pod
version_added: 0.1.0
description:
  - The runbook's Service Restart section on either platform, then a wait until the service is back.
  - "Compose: C(docker compose restart <service>); when the service's configuration changed (Compose's own verdict:
    C(--dry-run up) would recreate it, so an edited env file is noticed), or O(mode=recreate), C(up -d --no-deps
    --force-recreate) keeping the replica count. The whole stack: C(down) then C(up -d) with the env file."
  - "Kubernetes: a rolling restart (the C(kubectl.kubernetes.io/restartedAt) annotation on the pod template), then
    kubectl's completion rules: observed generation caught up, every replica updated, no old replica left, every
    updated replica available. C(ProgressDeadlineExceeded) fails at once."
  - O(pod) force-kills one pod (C(kubectl delete pod)) or container (C(docker rm -f)) and waits for its replacement.
  - Before changing anything it records the running image (Compose, for rollback) or the Deployment revision
    (Kubernetes, annotation C(quickbite.ops/previous-revision)).
  - "Then, unless O(verify=false), the health check (the same checks as M(quickbite.ops.healthcheck), retried for
    O(verify_timeout) seconds): a restart that leaves QuickBite unhealthy fails with each failed check's evidence."
  - "Compose: the backend's only container counts as ready as soon as it runs and its own health endpoint
    (C(/actuator/health), the actuator check) answers UP, without waiting up to an interval for Docker's
    healthcheck of that same endpoint to report C(healthy); several replicas wait for Docker's verdict."
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.health
  - quickbite.ops.wait
attributes:
  check_mode:
    support: full
    description: Reports what would be restarted, and how, from the same state a real run starts from.
  diff_mode:
    support: none
    description: A restart has no diff.
options:
  services:
    description:
      - Services to restart (C(backend), C(frontend), C(postgres), C(redis)).
    type: list
    elements: str
    default: [backend]
  all:
    description:
      - Restart the whole stack instead of O(services). Needs O(confirm).
    type: bool
    default: false
  confirm:
    description:
      - Must equal the target's name for O(all=true), as M(quickbite.ops.pg_restore)'s confirmation names its database;
        the target's name is the Compose project name (O(project_name), else the name of O(project_dir)) or the Kubernetes O(namespace).
        Otherwise the whole-stack restart is refused and nothing is changed. Check mode does not need it; it warns
        that it is missing.
    type: str
    default: ''
  pod:
    description:
      - Name of one pod (Kubernetes) or container (Compose) to force-kill and replace.
    type: str
  mode:
    description:
      - C(auto) restarts, or recreates when the configuration changed (Compose). C(restart) never recreates;
        C(recreate) always does. Kubernetes always does a rolling restart.
    type: str
    choices: [auto, restart, recreate]
    default: auto
  verify:
    description:
      - Run the health check after the restart; the health options say what it checks and how it reaches it.
    type: bool
    default: true
  verify_timeout:
    description:
      - Seconds the health check after the restart may retry until every check is UP. C(0) checks once.
    type: int
    default: 120
'''

EXAMPLES = r'''
- name: Restart the backend (Compose restart, or Kubernetes rolling restart)
  quickbite.ops.restart:
    platform: compose
    project_dir: /opt/quickbite
    backend_url: http://127.0.0.1:8080
    frontend_url: http://127.0.0.1

- name: Recreate the backend after editing .env.prod
  quickbite.ops.restart:
    platform: compose
    services: [backend]
    mode: recreate

- name: Restart the whole stack (down, then up -d), confirmed with the project name
  quickbite.ops.restart:
    platform: compose
    project_name: quickbite
    all: true
    confirm: quickbite

- name: Force kill and recreate one pod
  quickbite.ops.restart:
    platform: k8s
    pod: quickbite-backend-7d9c6b5f4-x2x8q
'''

RETURN = r'''
steps:
  description: One entry per restarted target with C(action), C(before) (image, revision, replicas) and C(after) (state).
  returned: always
  type: list
  elements: dict
msg:
  description: What was done (or, in check mode, would be), with revisions on Kubernetes.
  returned: always
  type: str
elapsed:
  description: Seconds spent restarting, waiting and checking health.
  returned: success
  type: float
health:
  description:
    - The health check after the restart, as M(quickbite.ops.healthcheck) returns it (C(status), C(checks),
      C(report_lines), ...).
  returned: when O(verify=true) and not in check mode
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.health import service
from ansible_collections.quickbite.ops.plugins.module_utils.health.options import health_argument_spec, health_settings
from ansible_collections.quickbite.ops.plugins.module_utils.ops import restart
from ansible_collections.quickbite.ops.plugins.module_utils.options import (argument_spec, platform_argument_spec,
                                                                            require_at_least, wait_argument_spec)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import target_lock


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(), health_argument_spec(), wait_argument_spec(),
        services=dict(type='list', elements='str', default=['backend']),
        all=dict(type='bool', default=False),
        confirm=dict(type='str', default=''),
        pod=dict(type='str'),
        mode=dict(type='str', choices=['auto', 'restart', 'recreate'], default='auto'),
        verify=dict(type='bool', default=True),
        verify_timeout=dict(type='int', default=120),
    ), supports_check_mode=True)
    run_module(module, restart_and_verify)


def restart_and_verify(module):
    p = module.params
    require_at_least(p, 0, 'verify_timeout')
    adapter = factory.get_adapter(module)
    steps = restart.plan(adapter, p['services'], p['all'], p['pod'], p['mode'])
    verify, endpoints = None, None
    if p['verify'] and not module.check_mode:
        settings = health_settings(module, adapter, endpoints=service.ENDPOINTS)
        endpoints = service.endpoint_probes(settings)

        def verify():
            return service.run(adapter, settings, timeout=p['verify_timeout'], interval=1)
    what = 'the whole stack' if p['all'] else p['pod'] or ', '.join(p['services'])
    with target_lock(adapter, 'restart %s' % what, module.check_mode):
        return restart.run(adapter, steps, p['all'], p['wait_timeout'], module.check_mode,
                           verify=verify, endpoints=endpoints, confirm=p['confirm'])


if __name__ == '__main__':
    main()
