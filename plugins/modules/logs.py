#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: logs
short_description: Collect and search the recent logs of QuickBite services
version_added: 0.1.0
description:
  - The runbook's Log Access in one task. Collects recent log lines of every service, of the listed O(services),
    or (Kubernetes) of the pods a label O(selector) picks, with one entry per container (Compose) or per pod
    (Kubernetes, every pod of the Deployment, not only the first).
  - Searches them for O(pattern) (by default C(error|exception), case-insensitive) with O(context_lines) lines
    of context, counts matches per service and per container or pod, and writes everything collected to one
    new file per run, C(quickbite-logs-<service or all>-<YYYYmmddTHHMMSSZ>.log) in O(dest_dir), mode C(0640),
    so an incident note can point at it.
  - Compose runs C(docker compose logs --no-color --tail N [--since D] [service]); Kubernetes reads
    C(pods/<name>/log) with C(tailLines), C(sinceSeconds) and C(previous).
  - Every value of the configuration's secret keys (O(mask_keys); the env file's keys on Compose, the Secret's on
    Kubernetes) is replaced by C(********) in every collected line before it is searched, returned or written to the
    file, wherever a service printed it. Nothing is passed on a command line but service names, O(tail) and O(since).
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
attributes:
  check_mode:
    support: full
    description: Collects and searches as a real run does but writes no file; RV(file) is null,
      RV(would_write) names the file a real run writes, and C(changed) is true as for a real run.
  diff_mode:
    support: none
    description: Only a new file is written, so there is no diff.
options:
  services:
    description:
      - Services to collect, by service name (or Kubernetes Deployment name); all services when empty.
      - An unknown name fails the task and names it.
    type: list
    elements: str
    default: []
  selector:
    description:
      - Kubernetes only. A label selector (C(app=quickbite-backend,tier=backend)); collects every pod it
        matches instead of the pods of O(services). Mutually exclusive with O(services).
      - Fails on Compose, which has no label selectors.
    type: str
  tail:
    description:
      - Last lines per container or pod. C(0) collects every line the platform keeps.
    type: int
    default: 100
  since:
    description:
      - Only lines newer than this duration, such as C(90s), C(10m), C(1h), C(2h30m) or C(1d)
        (units combined largest first). Passed as seconds to C(docker compose logs --since) and as
        C(sinceSeconds) to Kubernetes.
    type: str
  previous:
    description:
      - Kubernetes, the runbook's C(kubectl logs --previous). Logs of the previous, terminated container of each
        pod (after a crash). Every selected pod must have one; narrow O(services) or O(selector) to the crashed ones.
      - On Compose it has no effect (and the report says so). A restarted container keeps its earlier output in
        its log, so the normal collection already holds it. The logs of a removed or recreated container are gone.
    type: bool
    default: false
  pattern:
    description:
      - Python regular expression searched in every line. An empty string only collects.
    type: str
    default: error|exception
  ignore_case:
    description:
      - Search case-insensitively.
    type: bool
    default: true
  context_lines:
    description:
      - Lines of context before and after each match, as with C(grep -C). Overlapping windows are merged in the
        report and the file.
    type: int
    default: 3
  dest_dir:
    description:
      - Directory for the log files, on the host that runs the module (the Docker host on Compose, the controller
        on Kubernetes). Created with mode C(0750) when missing.
    type: path
    default: /var/log/quickbite-ops
  allow_ephemeral:
    description:
      - Write to O(dest_dir) even when this run is in an AWX or ansible-runner execution environment (C(/runner), C(AWX_*))
        and the path is not on a mounted volume, so it would be lost with the job. Refused otherwise, naming the
        variable to set.
    type: bool
    default: false
  mask_keys:
    description:
      - Shell-style patterns (case-insensitive) of the configuration keys whose values are secrets. The values of
        every matching key of the env file (Compose) or the Secret (Kubernetes) are masked in the collected lines,
        the results and the file. The configuration must be readable, or the task fails; an empty list collects
        without masking.
    type: list
    elements: str
    default: ['*SECRET*', '*PASSWORD*', '*TOKEN*', '*KEY*']
  max_matches:
    description:
      - At most this many matches returned in RV(matches) and shown in RV(report_lines), taken in turn from each
        container or pod so one noisy source cannot hide another. Counts and the file always cover every match.
    type: int
    default: 200
'''

EXAMPLES = r'''
- name: Last 100 lines of every service, searched for errors
  quickbite.ops.logs:
    platform: compose
    project_dir: /opt/quickbite

- name: The backend over the last hour, everything kept
  quickbite.ops.logs:
    platform: compose
    services: [backend]
    since: 1h
    tail: 0

- name: Every backend pod, searched for a timeout with 5 lines of context
  quickbite.ops.logs:
    platform: k8s
    namespace: quickbite
    services: [backend]
    pattern: timeout|timed out
    context_lines: 5

- name: The crashed containers of the pods a label selector picks
  quickbite.ops.logs:
    platform: k8s
    selector: app=quickbite-backend
    previous: true
    dest_dir: /srv/incidents
'''

RETURN = r'''
file:
  description: Path of the file written; null in check mode.
  returned: always
  type: str
  sample: /var/log/quickbite-ops/quickbite-logs-backend-20260105T101500Z.log
would_write:
  description: In check mode, the file a real run would write now; else null.
  returned: always
  type: str
sources:
  description:
    - One entry per container or pod with its service, the number of lines collected and of matching lines.
    - C(note) says why a pod gave no lines (no previous container, a container still starting).
  returned: always
  type: list
  elements: dict
  sample: [{"service": "backend", "source": "quickbite-backend-7d9c-abcde", "lines": 100, "matches": 2}]
summary:
  description: Per service (or per selector) the number of sources, lines and matching lines.
  returned: always
  type: dict
  sample: {"backend": {"sources": 3, "lines": 300, "matches": 2}}
matches:
  description:
    - Matching lines with their context, at most O(max_matches); C(line_number) counts from 1 within its source.
  returned: always
  type: list
  elements: dict
  sample: [{"source": "backend-1", "line_number": 42, "line": "... ERROR ... Application run failed",
            "context_before": ["..."], "context_after": ["..."]}]
total_lines:
  description: Lines collected from all sources.
  returned: always
  type: int
total_matches:
  description: Matching lines in all sources (not capped by O(max_matches)).
  returned: always
  type: int
truncated:
  description: True when RV(matches) holds fewer than RV(total_matches).
  returned: always
  type: bool
target:
  description: What was read (project directory or namespace and API server).
  returned: always
  type: str
platform:
  description: C(compose) or C(k8s).
  returned: always
  type: str
report_lines:
  description: The report as readable lines; a line per source, the file, then the matches as C(grep -n -C) prints them.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts, _mask
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets, run_module
from ansible_collections.quickbite.ops.plugins.module_utils.logs import service
from ansible_collections.quickbite.ops.plugins.module_utils.logs.search import DEFAULT_PATTERN
from ansible_collections.quickbite.ops.plugins.module_utils.options import argument_spec, platform_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory


def main():
    module = AnsibleModule(argument_spec=argument_spec(
        platform_argument_spec(),
        services=dict(type='list', elements='str', default=[]),
        selector=dict(type='str'),
        tail=dict(type='int', default=100),
        since=dict(type='str'),
        previous=dict(type='bool', default=False),
        pattern=dict(type='str', default=DEFAULT_PATTERN),
        ignore_case=dict(type='bool', default=True),
        context_lines=dict(type='int', default=3),
        dest_dir=dict(type='path', default='/var/log/quickbite-ops'),
        max_matches=dict(type='int', default=200),
        mask_keys=dict(type='list', elements='str', default=list(_mask.DEFAULT_SECRET_KEYS), no_log=False),
        allow_ephemeral=dict(type='bool', default=False),
    ), supports_check_mode=True)
    run_module(module, collect)


def collect(module):
    _artefacts.refuse_ephemeral(module.params['dest_dir'], 'the log bundle', 'logs_dest_dir', 'logs_allow_ephemeral',
                                module.params['allow_ephemeral'])
    settings = service.LogSettings(**dict((name, module.params[name]) for name in (
        'services', 'selector', 'tail', 'since', 'previous', 'pattern', 'ignore_case', 'context_lines',
        'dest_dir', 'max_matches', 'mask_keys')))
    adapter = factory.get_adapter(module)
    masker = _mask.from_adapter(adapter, settings.mask_keys, 'logs_mask_keys')
    register_secrets(module, *masker.values)
    return service.run(adapter, settings, check_mode=module.check_mode, masker=masker)


if __name__ == '__main__':
    main()
