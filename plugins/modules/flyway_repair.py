#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: flyway_repair
short_description: Report QuickBite's Flyway schema history and delete its failed rows after a backup copy
version_added: 0.1.0
description:
  - The runbook's "Flyway migration conflict" fix. Reports C(flyway_schema_history) as the runbook's
    C(SELECT version, description, success FROM flyway_schema_history) does, with the applied and failed rows,
    the newest applied version and, when O(migrations_dir) is given, the pending migrations.
  - "O(state=repair): in one transaction, under a lock that keeps a starting backend out, copies the table to
    C(flyway_schema_history_backup_<YYYYmmdd_HHMMSS>) (UTC) and deletes the failed rows (the runbook's
    C(DELETE FROM flyway_schema_history WHERE success = false)); then restarts the backend so it retries the
    migration (O(restart)) and checks its health (actuator and container or pod state)."
  - A repair needs O(confirm) set to the database's name.
  - No failed row means no change. Deleting a failed row does not undo what its migration did before it failed;
    the result says so in C(warnings) for every failed row.
  - "The database is reached through libpq from the host that runs the module (O(access=libpq)), or with
    O(access=exec) through C(psql) inside the O(db_service) container or pod, as C(postgres) over its local socket
    (no port-forward, no password): the same reads and the same one-transaction repair."
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.database.client
  - quickbite.ops.database_access
  - quickbite.ops.wait
attributes:
  check_mode:
    support: full
    description: Reads the history and lists the rows a repair would delete and the backup table it would create;
      changes nothing.
  diff_mode:
    support: full
    description: The history (version, description, success) before and after the repair.
options:
  state:
    description:
      - C(report) only reads. C(repair) backs the table up and deletes its failed rows.
    type: str
    choices: [report, repair]
    default: report
  confirm:
    description:
      - Must equal the database's name (O(db_name), else C(DB_NAME) of the configuration) for O(state=repair) to
        delete rows, as for M(quickbite.ops.pg_restore). Otherwise a repair
        that would delete rows is refused and nothing is changed.
      - Check mode does not need it; it lists the rows a repair would delete and warns when the confirmation is missing.
    type: str
    default: ''
  migrations_dir:
    description:
      - Directories on the host that runs the module holding the deployment's C(V<version>__<description>.sql) files
        (searched recursively), for example a checkout's C(src/main/resources/db/migration).
      - When given, pending are the files newer than the newest applied version, and rows whose file is missing,
        renamed or changed (Flyway checksum) are reported. When omitted, pending is reported as unknown.
    type: list
    elements: path
    default: []
  restart:
    description:
      - After a repair that deleted rows, restart the backend (Compose restart, or recreate when its configuration
        changed; Kubernetes rolling restart) and check its health at O(backend_url). The restart may take
        O(wait_timeout) seconds; the health check after it waits at most 120 s of them.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Report the Flyway schema history
  quickbite.ops.flyway_repair:
    platform: compose
    project_dir: /opt/quickbite
    db_port: 5432

- name: Report pending migrations against the checkout's migration files
  quickbite.ops.flyway_repair:
    platform: compose
    migrations_dir: [/srv/quickbite/src/main/resources/db/migration]

- name: Delete the failed rows after a backup copy, restart the backend and check its health
  quickbite.ops.flyway_repair:
    platform: k8s
    namespace: quickbite
    db_host: quickbite-db.internal
    backend_url: https://api.quickbite.example
    state: repair
    confirm: quickbite

- name: Report the history through psql in the postgres pod (no port-forward)
  quickbite.ops.flyway_repair:
    platform: k8s
    namespace: quickbite
    access: exec
    db_port: 5432
'''

RETURN = r'''
history:
  description: Every row of C(flyway_schema_history) as found, oldest first (C(installed_rank), C(version),
    C(description), C(type), C(script), C(checksum), C(installed_by), C(installed_on), C(execution_time), C(success)).
  returned: always
  type: list
  elements: dict
applied_rows:
  description: The rows with C(success) true.
  returned: always
  type: list
  elements: dict
failed_rows:
  description: The rows with C(success) false, as found.
  returned: always
  type: list
  elements: dict
newest_version:
  description: Newest applied version in Flyway's order (1.10 after 1.9); null when none.
  returned: always
  type: str
pending:
  description: Migration files newer than the newest applied version (C(version), C(description), C(script), C(path),
    C(checksum)); null when O(migrations_dir) is not given (unknown).
  returned: always
  type: list
  elements: dict
ignored:
  description: Migration files older than the newest applied version that were never applied; null without
    O(migrations_dir).
  returned: always
  type: list
  elements: dict
mismatches:
  description: Applied rows whose file is missing, renamed or changed (checksum), and versions found in two files.
  returned: always
  type: list
  elements: str
deleted:
  description: The failed rows deleted (in check mode, that would be deleted).
  returned: always
  type: list
  elements: dict
backup_table:
  description: The backup copy of the table (in check mode, the name it would have); null when nothing was repaired.
  returned: always
  type: str
  sample: flyway_schema_history_backup_20261129_083000
restart:
  description: The restart after the repair (C(msg), C(steps), C(elapsed)); null when there was none.
  returned: always
  type: dict
checks:
  description: Health checks after the restart, each with C(check), C(ok) and C(evidence).
  returned: always
  type: list
  elements: dict
report_lines:
  description: The history table and what was found and done, as readable lines.
  returned: always
  type: list
  elements: str
warnings:
  description: One per failed row, that its migration's partial changes are not undone and must be checked.
  returned: when there are failed rows
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.common import run_module
from ansible_collections.quickbite.ops.plugins.module_utils.db import connection, flyway
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import access_argument_spec, make_client
from ansible_collections.quickbite.ops.plugins.module_utils.db._flyway_exec import ExecTable
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import target_lock


def main():
    module = AnsibleModule(argument_spec=options.argument_spec(
        options.platform_argument_spec(), options.backend_argument_spec(), options.database_argument_spec(),
        options.database_login_argument_spec(), options.database_client_argument_spec(), options.wait_argument_spec(),
        access_argument_spec(),
        state=dict(type='str', choices=['report', 'repair'], default='report'),
        confirm=dict(type='str', default=''),
        migrations_dir=dict(type='list', elements='path', default=[]),
        restart=dict(type='bool', default=True),
    ), supports_check_mode=True)
    connection.require_psycopg2(module)
    run_module(module, repair)


def repair(module):
    lazy = connection.LazyAdapter(module)
    adapter = lazy.get()
    target = connection.resolve_target(module, adapter)
    history = None
    if module.params['access'] == 'exec':
        client = make_client(module, lazy, target)
        where = 'database %s in service %s of %s (psql as postgres over the local socket)' % (
            target.dbname, module.params['db_service'], adapter.describe())
        history = ExecTable(client.spawn, target.port, client.exec_timeout, where=where)
    # Only a repair changes something (the report reads).
    with target_lock(adapter, 'repair flyway_schema_history', module.check_mode or module.params['state'] != 'repair'):
        result = flyway.run(target, adapter, module.params, module.check_mode, history=history)
    if not module._diff:
        result.pop('diff', None)
    return result


if __name__ == '__main__':
    main()
