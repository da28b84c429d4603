#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: incident_notify
short_description: Notify the stakeholders of a QuickBite incident
version_added: 0.2.0
description:
  - The runbook's step 6. Sends one message for O(phase) (C(start), C(findings) or C(end)) to every receiver, a
    Slack-compatible incoming webhook (C(blocks) with a C(text) fallback) or a generic JSON webhook.
  - Receivers are tried side by side, each with up to O(retries) retries within O(deadline) seconds; a receiver
    that fails or hangs is reported (and warned about), never the end of the run.
  - Messages carry the severity, its reason and the report lines, never log lines; every value of the
    configuration's secret keys is masked in them. Receiver URLs are secrets (no_log) and never returned.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Sends nothing; returns the message that would be sent.
  diff_mode:
    support: none
    description: Nothing on the target changes.
options:
  receivers:
    description:
      - Where to send the message.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A name for results and the timeline (the URL never appears there).
        type: str
        required: true
      kind:
        description: C(slack) (incoming webhook, blocks JSON) or C(webhook) (the message's facts as JSON).
        type: str
        choices: [slack, webhook]
        default: webhook
      url:
        description: The receiver's URL (a Slack webhook URL is a secret).
        type: str
        required: true
  phase:
    description:
      - Which message.
    type: str
    choices: [start, findings, end]
    required: true
  incident_id:
    description:
      - The incident's id.
    type: str
    required: true
  report:
    description:
      - The result of M(quickbite.ops.incident_evidence) (findings and end).
    type: dict
    default: {}
  record_path:
    description:
      - Where the incident record is (end).
    type: str
  actions:
    description:
      - Actions taken (end).
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds one attempt may take.
    type: int
    default: 5
  deadline:
    description:
      - Seconds all attempts to one receiver may take.
    type: int
    default: 15
  retries:
    description:
      - Attempts after the first one when a receiver fails (no answer or not HTTP 2xx).
    type: int
    default: 3
  mask_keys:
    description:
      - Configuration keys (shell patterns) whose values are masked in every message.
    type: list
    elements: str
    default: ['*SECRET*', '*PASSWORD*', '*TOKEN*', '*KEY*']
'''

EXAMPLES = r'''
- name: Tell the on-call channel what was found
  quickbite.ops.incident_notify:
    platform: compose
    phase: findings
    incident_id: inc-20261130T031500Z
    report: "{{ incident_report }}"
    receivers:
      - {name: oncall-slack, kind: slack, url: "{{ vault_slack_webhook_url }}"}
      - {name: statuspage, kind: webhook, url: https://hooks.example.com/quickbite}
'''

RETURN = r'''
deliveries:
  description: One entry per receiver, C(receiver), C(kind), C(delivered), C(attempts), C(summary), C(duration_ms).
  returned: always
  type: list
  elements: dict
message:
  description: The facts sent (title, lines, severity, reason, response time, target, UTC time).
  returned: always
  type: dict
events:
  description: Timeline entries for M(quickbite.ops.incident_record), one per receiver.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets, run_module
from ansible_collections.quickbite.ops.plugins.module_utils.incident import notify
from ansible_collections.quickbite.ops.plugins.module_utils.options import (argument_spec, platform_argument_spec,
                                                                            require_at_least)
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        receivers=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            kind=dict(type='str', choices=list(notify.KINDS), default='webhook'),
            url=dict(type='str', required=True, no_log=True))),
        phase=dict(type='str', choices=list(notify.PHASES), required=True),
        incident_id=dict(type='str', required=True),
        report=dict(type='dict', default={}),
        record_path=dict(type='str'),
        actions=dict(type='list', elements='str', default=[]),
        timeout=dict(type='int', default=5),
        deadline=dict(type='int', default=15),
        retries=dict(type='int', default=3),
        mask_keys=dict(type='list', elements='str', default=list(_mask.DEFAULT_SECRET_KEYS), no_log=False),
    ), supports_check_mode=True)
    run_module(module, send)


def send(module):
    p = module.params
    require_at_least(p, 1, 'timeout', 'deadline')
    require_at_least(p, 0, 'retries')
    adapter = factory.get_adapter(module)
    masker = _mask.from_adapter(adapter, p['mask_keys'], 'mask_keys (quickbite_secret_keys)')
    register_secrets(module, *masker.values)
    facts = notify.content(p['phase'], p['incident_id'], p['report'], p['report'].get('target') or adapter.describe(),
                           p['record_path'], p['actions'])
    facts = dict((k, masker.text(v) if isinstance(v, str) else v) for k, v in facts.items())
    facts['lines'] = masker.lines(facts['lines'])
    if module.check_mode or not p['receivers']:
        why = 'check mode' if module.check_mode else 'no receivers configured'
        return dict(changed=False, deliveries=[], message=facts,
                    events=[dict(time=facts['time'], step='notify %s' % p['phase'], detail='not sent: %s' % why)])
    deliveries = notify.send(p['receivers'], facts, masker, p['timeout'], p['deadline'], p['retries'])
    events = [dict(time=facts['time'], step='notify %s' % p['phase'], detail='%s (%s): %s' % (
        d['receiver'], d['kind'], d['summary'])) for d in deliveries]
    warnings = ['notification to %s (%s) failed: %s; the incident run goes on' % (
        d['receiver'], d['kind'], d['summary']) for d in deliveries if not d['delivered']]
    return dict(changed=any(d['delivered'] for d in deliveries), deliveries=deliveries, message=facts, events=events,
                warnings=warnings)


if __name__ == '__main__':
    main()
