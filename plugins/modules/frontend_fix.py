#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: frontend_fix
short_description: Fix the frontend's WebSocket timeouts or SPA fallback, tested, reloaded, rolled back on failure
version_added: 0.3.0
description:
  - The fixes of the runbook's "WebSocket connections timing out" and "Frontend shows blank page" sections, as the
    diagnose module names them.
  - O(fix=websocket_timeouts) where requests come through Ingress objects (Kubernetes), patches their ingress-nginx
    annotations C(nginx.ingress.kubernetes.io/proxy-read-timeout) and C(proxy-send-timeout) up to
    O(ingress_timeout_seconds), every other annotation kept. Where the frontend's nginx is the edge (Compose), sets
    C(proxy_read_timeout) and C(proxy_send_timeout) to O(timeout_seconds) in every location that passes WebSocket
    upgrades on and keeps them below O(min_seconds) (as nginx inherits them), in the deployment's O(nginx_conf).
  - O(fix=spa_fallback) sets C(try_files) of C(location /) to O(try_files) in O(nginx_conf).
  - A file fix reads what the frontend runs (C(nginx -T) in its container, parsed with crossplane) and refuses an
    O(nginx_conf) that is not one of its files; edits only the lines concerned (comments and layout kept) and proves
    the edit by parsing the result; writes it atomically (mode and owner kept); runs C(nginx -t) in the container;
    on failure puts the old file back and fails without reloading; else reloads nginx and checks that it sees the
    new file.
  - Idempotent; with nothing below the threshold, nothing is written and nothing reloaded.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Reads, plans and proves the same edit; writes, patches and reloads nothing.
  diff_mode:
    support: full
    description: The file (or the Ingress annotations) before and after.
options:
  fix:
    description: Which fix.
    type: str
    required: true
    choices: [websocket_timeouts, spa_fallback]
  nginx_conf:
    description:
      - The deployment's nginx configuration file on the host the module runs on, the one mounted into the
        frontend container. Empty means C(<project_dir>/frontend/nginx.conf).
      - Not used for O(fix=websocket_timeouts) where the platform routes through Ingress objects.
    type: path
  nginx_conf_var:
    description: The variable that sets O(nginx_conf), named in messages.
    type: str
    default: nginx_conf
  frontend_service:
    description: The frontend's service (nginx runs in its container or pod).
    type: str
    default: frontend
  timeout_seconds:
    description: Seconds written into C(proxy_read_timeout) and C(proxy_send_timeout).
    type: int
    default: 3600
  min_seconds:
    description: Locations whose timeouts are at least this many seconds are left as they are.
    type: int
    default: 60
  ingress_timeout_seconds:
    description: Ingress annotations below this many seconds (or unset, ingress-nginx's 60) are set to it.
    type: int
    default: 3600
  try_files:
    description: The C(try_files) arguments of C(location /) for O(fix=spa_fallback).
    type: list
    elements: str
    default: ['$uri', '$uri/', '/index.html']
  command_timeout:
    description: Seconds each command in the frontend container (C(nginx -T), C(nginx -t), reload) may take.
    type: int
    default: 10
requirements:
  - crossplane (Python)
'''

EXAMPLES = r'''
- name: Raise the WebSocket timeouts of the Compose frontend
  quickbite.ops.frontend_fix:
    platform: compose
    project_dir: /opt/quickbite
    fix: websocket_timeouts

- name: Patch the Ingress annotations on Kubernetes
  quickbite.ops.frontend_fix:
    platform: k8s
    namespace: quickbite
    fix: websocket_timeouts

- name: Restore the SPA fallback
  quickbite.ops.frontend_fix:
    platform: compose
    project_dir: /opt/quickbite
    fix: spa_fallback
    nginx_conf: /opt/quickbite/frontend/nginx.conf
'''

RETURN = r'''
msg:
  description: What was (or would be) done.
  returned: always
  type: str
edits:
  description: One line per change made or planned.
  returned: always
  type: list
  elements: str
file:
  description: The file edited (file fixes).
  returned: when a file fix ran
  type: str
container_file:
  description: The path under which the frontend loads O(nginx_conf).
  returned: when a file fix ran
  type: str
nginx_test:
  description: The output of C(nginx -t) after the edit.
  returned: when the file was written
  type: str
locations:
  description: The WebSocket locations as found before the fix, with their timeouts and where each comes from.
  returned: O(fix=websocket_timeouts) on a file
  type: list
  elements: dict
target:
  description: What was fixed.
  returned: always
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_on_target
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import fixes
from ansible_collections.quickbite.ops.plugins.module_utils.options import argument_spec, platform_argument_spec, \
    require_at_least


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        fix=dict(type='str', required=True, choices=['websocket_timeouts', 'spa_fallback']),
        nginx_conf=dict(type='path'),
        nginx_conf_var=dict(type='str', default='nginx_conf'),
        frontend_service=dict(type='str', default='frontend'),
        timeout_seconds=dict(type='int', default=3600),
        min_seconds=dict(type='int', default=60),
        ingress_timeout_seconds=dict(type='int', default=3600),
        try_files=dict(type='list', elements='str', default=['$uri', '$uri/', '/index.html']),
        command_timeout=dict(type='int', default=10),
    ), supports_check_mode=True)
    run_on_target(module, 'fix the frontend (%s)' % module.params['fix'], fix)


def fix(module, adapter):
    p = module.params
    require_at_least(p, 1, 'timeout_seconds', 'min_seconds', 'ingress_timeout_seconds', 'command_timeout')
    settings = fixes.FixSettings(
        fix=p['fix'], nginx_conf=p['nginx_conf'] or os.path.join(p['project_dir'], 'frontend', 'nginx.conf'),
        conf_var=p['nginx_conf_var'], frontend_service=p['frontend_service'], timeout_seconds=p['timeout_seconds'],
        min_seconds=p['min_seconds'], ingress_seconds=p['ingress_timeout_seconds'], try_files=p['try_files'],
        command_timeout=p['command_timeout'], check_mode=module.check_mode, diff=module._diff)
    return fixes.run(adapter, settings)


if __name__ == '__main__':
    main()
