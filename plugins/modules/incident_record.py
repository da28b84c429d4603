#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: incident_record
short_description: Write the record and post-mortem draft of a QuickBite incident
version_added: 0.2.0
description:
  - The runbook's step 7 (post-incident) prepared, a directory per incident id under O(incident_dir) (mode 0700,
    files 0600, never through a symlink) with C(report.json) and C(report.md) (every probe's evidence and the
    collected logs, from M(quickbite.ops.incident_evidence)), C(timeline.jsonl) (UTC; a later run with the same
    O(incident_id) appends) and C(postmortem.md), a blameless draft with the timeline, impact, severity, actions
    taken and the due time (detection + 24 h). A later run keeps an existing C(postmortem.md) (a person edits it).
  - Takes the platform options as every module of the C(quickbite.ops.ops) action group does (roles set them once
    with C(module_defaults)); it writes on the host it runs on and asks the platform nothing.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Writes nothing; returns what a run would write, append or keep.
  diff_mode:
    support: none
    description: The record is new text each run; no diff is shown.
options:
  incident_dir:
    description:
      - Directory holding the incident records; created (0700) when absent. It and the directories above it must
        not be writable by other users.
    type: path
    required: true
  incident_id:
    description:
      - The incident's id, a plain name (letters, digits, C(.), C(_), C(-)).
    type: str
    required: true
  report:
    description:
      - The result of M(quickbite.ops.incident_evidence) (its secrets are masked already).
    type: dict
    required: true
  events:
    description:
      - Steps of this run to add to the timeline after the evidence, each C(time) (UTC; default now), C(step) and
        C(detail) (notifications, a rollback).
    type: list
    elements: dict
    default: []
  actions:
    description:
      - Actions taken, one line each, for the post-mortem draft.
    type: list
    elements: str
    default: []
  allow_ephemeral:
    description:
      - Write under O(incident_dir) even when this run is in an AWX or ansible-runner execution environment
        (C(/runner), C(AWX_*)) and the path is not on a mounted volume, so the record would be lost with the job.
        Refused otherwise (before anything is written), naming the variable to set.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Record the incident
  quickbite.ops.incident_record:
    incident_dir: /var/lib/quickbite/incidents
    incident_id: inc-20261130T031500Z
    report: "{{ incident_report }}"
    events:
      - {step: notify start, detail: "slack: delivered"}
'''

RETURN = r'''
path:
  description: The incident's directory.
  returned: always
  type: str
files:
  description: What happened to each file, C(written), C(appended) or C(kept).
  returned: always
  type: dict
  sample: {"report.json": "written", "report.md": "written", "timeline.jsonl": "appended", "postmortem.md": "kept"}
timeline_entries:
  description: Entries this run added to the timeline.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts
from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.incident import record
from ansible_collections.quickbite.ops.plugins.module_utils.options import argument_spec, platform_argument_spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        incident_dir=dict(type='path', required=True),
        incident_id=dict(type='str', required=True),
        report=dict(type='dict', required=True),
        events=dict(type='list', elements='dict', default=[]),
        actions=dict(type='list', elements='str', default=[]),
        allow_ephemeral=dict(type='bool', default=False),
    ), supports_check_mode=True)
    run_module(module, write)


def write(module):
    p = module.params
    _artefacts.refuse_ephemeral(p['incident_dir'], 'the incident record', 'incident_dir', 'incident_allow_ephemeral',
                                p['allow_ephemeral'])
    result = record.write(p['incident_dir'], p['incident_id'], p['report'], p['events'], p['actions'],
                          module.check_mode)
    return dict(result, changed=True)


if __name__ == '__main__':
    main()
