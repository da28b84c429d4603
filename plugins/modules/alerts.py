#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: alerts
short_description: List the QuickBite alerts firing now, each with its runbook section and playbook
version_added: 0.1.0
description:
  - Asks Alertmanager's API v2 (C(/api/v2/alerts)) what is active, inhibited or silenced; when Alertmanager is not
    set or does not answer, Prometheus' C(/api/v1/alerts) (with a warning saying so).
  - Each alert comes with its severity, summary, the runbook section (C(runbook_url)) and the playbook that answers
    it, as the rules of M(quickbite.ops.monitoring_config) annotate them.
  - Read-only. The platform options come with the C(ops) action group and are not used.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Read-only; asks the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed.
options:
  alertmanager_url:
    description: Base URL of Alertmanager; empty asks Prometheus only.
    type: str
    default: http://127.0.0.1:9093
  prometheus_url:
    description: Base URL of Prometheus, the fallback; empty asks Alertmanager only.
    type: str
    default: http://127.0.0.1:9090
  include_pending:
    description: Also list alerts whose condition holds but whose C(for:) has not passed yet (Prometheus only).
    type: bool
    default: false
  timeout:
    description: Seconds one request may take.
    type: int
    default: 5
  validate_certs:
    description: Verify TLS certificates of the URLs.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: What is firing now
  quickbite.ops.alerts:
    platform: compose
    alertmanager_url: http://127.0.0.1:9093
    prometheus_url: http://127.0.0.1:9090
  register: firing
'''

RETURN = r'''
source:
  description: Where the alerts were read, C(alertmanager) or C(prometheus).
  returned: always
  type: str
alerts:
  description:
    - One entry per alert, sorted by severity and name, with C(name), C(severity), C(state) (firing, inhibited,
      silenced; pending with O(include_pending)), C(since), C(summary), C(runbook_url), C(runbook_section),
      C(playbook) and C(labels).
  returned: always
  type: list
  elements: dict
report_lines:
  description: One readable line per alert (or one saying nothing fires).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import firing
from ansible_collections.quickbite.ops.plugins.module_utils.options import argument_spec, platform_argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        alertmanager_url=dict(type='str', default='http://127.0.0.1:9093'),
        prometheus_url=dict(type='str', default='http://127.0.0.1:9090'),
        include_pending=dict(type='bool', default=False),
        timeout=dict(type='int', default=5),
        validate_certs=dict(type='bool', default=True),
    ), supports_check_mode=True)
    run_module(module, read)


def read(module):
    p = module.params
    if p['timeout'] < 1:
        raise ConfigError('timeout must be 1 or more, got %d' % p['timeout'])
    result = firing.firing(p['alertmanager_url'], p['prometheus_url'], validate_certs=p['validate_certs'],
                           timeout=p['timeout'], include_pending=p['include_pending'])
    return dict(result, changed=False)


if __name__ == '__main__':
    main()
