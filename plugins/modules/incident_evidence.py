#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: incident_evidence
short_description: Collect the evidence of a QuickBite incident and classify its severity
version_added: 0.2.0
description:
  - Steps 1 to 4 of the runbook's P1 checklist as one bounded run. Probes run side by side, each with its own time
    limit (O(probe_timeouts)); a probe that does not answer in time is reported as C(timed_out) and the run goes on.
  - C(health) the full health check; C(services) every container or pod with restart counts, last exit code,
    OOMKilled and, on Kubernetes, recent Warning events; C(logs) the last O(log_minutes) of every service with an
    error summary (count, first and last time per distinct message); C(db) SELECT 1 latency, connections against
    max_connections, long queries, blocked locks, database size, and the free space of the filesystem holding its
    data directory as seen inside the database's container or pod (C(df -P) through the platform's exec, as the
    postgres user; a volume over 85% used is a finding); C(redis) PING, memory, clients, pub/sub channels (through
    C(redis-cli) in its container or pod with O(redis_access=exec));
    C(latency) backend p50/p99 over O(latency_requests) requests; C(deploys) images or revisions, when each changed,
    and the rollback candidate.
  - Severity from the runbook's table with its reasons and response time (P1 down, P2 degraded, P3 minor), and
    whether a rollback is indicated (a failing service changed within O(deploy_window_minutes)), with the reason.
  - Secret values of the configuration are masked in every log line, query text and message.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.health
attributes:
  check_mode:
    support: full
    description: Read-only; collects the same evidence in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
options:
  services:
    description:
      - Services whose state and logs are collected; all services when empty.
    type: list
    elements: str
    default: []
  probes:
    description:
      - Probes to run.
    type: list
    elements: str
    choices: [health, services, logs, db, redis, latency, deploys]
    default: [health, services, logs, db, redis, latency, deploys]
  probe_timeouts:
    description:
      - Seconds each probe may take, by probe name; defaults are health 15, services 15, logs 20, db 10, redis 5,
        latency 15, deploys 15.
    type: dict
    default: {}
  log_minutes:
    description:
      - Minutes of logs collected from every service.
    type: int
    default: 15
  log_tail:
    description:
      - At most this many lines read per service; C(0) reads all the platform keeps for O(log_minutes).
    type: int
    default: 2000
  log_keep:
    description:
      - Last lines per service kept in the result (and the incident record).
    type: int
    default: 200
  long_query_seconds:
    description:
      - Queries running longer than this are listed.
    type: int
    default: 30
  latency_path:
    description:
      - Path on O(backend_url) the latency probe requests.
    type: str
    default: /actuator/health
  latency_requests:
    description:
      - Requests the latency probe sends, one after the other.
    type: int
    default: 20
  latency_p99_ms:
    description:
      - p99 above this is a P2 (the runbook's High Latency alert, 2 s).
    type: int
    default: 2000
  deploy_services:
    description:
      - Services whose deploys are read (image or revision, history, rollback candidate).
    type: list
    elements: str
    default: [backend, frontend]
  deploy_window_minutes:
    description:
      - A failing service that changed within these minutes points at a deploy, so a rollback is indicated.
    type: int
    default: 120
  db_data_dir:
    description:
      - The database's data directory inside its container or pod, whose filesystem's free space the C(db) probe
        reports. Empty asks the server (C(SHOW data_directory) through psql in O(db_service)), else C($PGDATA).
      - With O(db_access=libpq) the database's volume is still looked at through the platform's exec into
        O(db_service); where that is impossible (a managed database) the probe says so and goes on.
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Collect the evidence of an incident on the Compose host
  quickbite.ops.incident_evidence:
    platform: compose
    project_dir: /opt/quickbite

- name: Only the database and Redis, with short limits
  quickbite.ops.incident_evidence:
    platform: k8s
    namespace: quickbite
    probes: [db, redis]
    probe_timeouts: {db: 3, redis: 2}
'''

RETURN = r'''
detected_at:
  description: UTC time the run started.
  returned: always
  type: str
severity:
  description: C(level) (P1, P2, P3 or NONE), C(reason), C(reasons) by level and C(response_time).
  returned: always
  type: dict
  sample: {"level": "P1", "reason": "backend is down: no container running", "response_time": "15 min"}
evidence:
  description: One entry per probe with C(status) (ok, failed, error, timed_out), C(summary), C(data),
    C(duration_ms) and C(limit_s).
  returned: always
  type: dict
rollback:
  description: C(indicated), C(service), C(target) and C(why).
  returned: always
  type: dict
report_lines:
  description: The findings as readable lines, one per probe.
  returned: always
  type: list
  elements: str
target:
  description: What was examined.
  returned: always
  type: str
platform:
  description: C(compose) or C(k8s).
  returned: always
  type: str
elapsed:
  description: Seconds the probes took.
  returned: always
  type: float
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.incident import service
from ansible_collections.quickbite.ops.plugins.module_utils.incident.options import incident_argument_spec, \
    incident_settings
from ansible_collections.quickbite.ops.plugins.module_utils.platform import factory


def main():
    module = AnsibleModule(argument_spec=incident_argument_spec(), supports_check_mode=True)
    run_module(module, collect)


def collect(module):
    adapter = factory.get_adapter(module)
    settings = incident_settings(module, adapter)
    return service.run(adapter, settings, module.params['latency_p99_ms'], module.params['deploy_window_minutes'])


if __name__ == '__main__':
    main()
