#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pg_restore
short_description: Restore the QuickBite database from a backup, refusing corrupt backups and rolling back failures
version_added: 0.1.0
description:
  - The runbook's destructive C(./ops/restore-db.sh), made safe to run at 3 a.m.
  - Restores custom (C(.dump), C(.dump.zst)), directory (C(.dir)) and plain SQL (C(.sql), C(.sql.gz), C(.sql.zst))
    backups, including those of the runbook's old C(backup-db.sh) (plain SQL through gzip; they have no manifest, so
    they need O(allow_foreign_backup=true)).
  - "Before anything is touched: O(confirm) must equal the target database's name when it exists; the C(.sha256)
    sidecar is checked when present; the archive is read to its end (zstd and gzip checks, C(pg_restore --list), and
    for plain SQL pg_dump's closing line, which a dump cut short lacks). A corrupt backup is refused with the target
    untouched."
  - "O(mode=replace) (the runbook's way): stops the writers (Compose C(stop backend), Kubernetes scale to 0), takes a
    pre-restore backup into O(backup_dir) unless O(pre_restore_backup=false), drops and recreates the database, loads
    the backup, compares row counts and the Flyway version with the manifest, starts the writers again and checks
    health. A failed load or comparison puts the pre-restore backup back and fails."
  - "O(mode=swap) (safe mode): loads into C(<db>_restore_<timestamp>) while QuickBite keeps running, compares it, then
    stops the writers only for two renames; the old database is kept as C(<db>_pre_restore_<timestamp>). Needs room
    for two copies; the outage is seconds instead of the whole load. Both names are kept within PostgreSQL's 63 bytes
    by shortening the C(<db>) part (never inside a character) and must differ from the live name and each other; a
    name that exists already is refused, never dropped."
  - "Every step is recorded first in the platform's state store (Compose C(<project_dir>/.quickbite-ops/), Kubernetes
    Secret C(quickbite-ops-state)). Any failure, SIGTERM and Ctrl-C included, puts things back before the module fails:
    the pre-restore backup once the load has begun, a half-done swap renamed back, the writers started with the replica
    counts recorded before they were stopped. A run killed outright leaves the record; the next run settles it first:
    it finishes when the restored database is in place (and succeeds), otherwise it puts the original back and fails
    saying so, having done nothing else."
  - "A plain SQL backup loads over O(jobs) connections (the COPY data of the tables, large tables in chunks of rows,
    then indexes and constraints, with a VACUUM of each table a foreign key reads before that table's index builds, so
    that the foreign key's check reads the indexes), each session with C(synchronous_commit=off),
    C(maintenance_work_mem=512MB) and 2 parallel maintenance workers; not one transaction, which the checks after the
    load and the rollback make up for.
    A directory backup uses C(pg_restore --jobs)."
  - Check mode runs every check on the backup and the confirmation, and lists the steps it would take.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.backend
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.database.client
  - quickbite.ops.database_admin
  - quickbite.ops.database_access
  - quickbite.ops.backup_loading
  - quickbite.ops.wait
attributes:
  check_mode:
    support: full
    description: Runs every check on the backup and the confirmation, touches nothing, and lists the steps it would
      take; reports C(changed=true), as the run does (a restore always replaces or swaps the database).
  diff_mode:
    support: none
    description: Reports its changes in its result, not as a diff.
options:
  path:
    description:
      - The backup file or directory on the host that runs the module.
    type: path
    required: true
  confirm:
    description:
      - Must equal the target database's name (O(db_name)) when that database exists. Nothing is touched otherwise.
    type: str
    default: ''
  mode:
    description:
      - C(replace) drops and recreates the database (the runbook's restore); C(swap) restores beside it and swaps by
        renaming, keeping the old one.
    type: str
    default: replace
    choices: [replace, swap]
  stop_writers:
    description:
      - Stop O(writers) for the restore (C(replace)) or the swap (C(swap)) and start them again after, failure included.
    type: bool
    default: true
  writers:
    description:
      - Services that write to the database.
    type: list
    elements: str
    default: [backend]
  pre_restore_backup:
    description:
      - With O(mode=replace), back up the current database into O(backup_dir) first (prefix C(<db>-pre-restore)); a
        failed restore puts it back.
    type: bool
    default: true
  backup_dir:
    description:
      - Where the pre-restore backup goes.
    type: path
    default: /opt/quickbite/backups
  allow_ephemeral:
    description:
      - Write the pre-restore backup to O(backup_dir) even when this run is in an AWX or ansible-runner execution
        environment (C(/runner), C(AWX_*)) and the path is not on a mounted volume, so the backup would be lost with
        the job. Refused otherwise (before anything is touched), naming the variable to set.
    type: bool
    default: false
  health_check:
    description:
      - Check the backend's health at O(backend_url) after starting the writers again; the writers have
        O(wait_timeout) seconds to be ready and healthy again.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Restore a nightly backup over the live database
  quickbite.ops.pg_restore:
    platform: compose
    project_dir: /opt/quickbite
    path: /opt/quickbite/backups/quickbite_20250101_120000.sql.gz
    confirm: quickbite
'''

RETURN = r'''
restore_mode:
  description: C(replace) or C(swap), as O(mode) asked (not named C(mode), which Ansible fills with the file mode of
    C(path) in every result that has a path).
  returned: always
  type: str
steps:
  description: What was done, in order.
  returned: always
  type: list
  elements: str
checks:
  description: Checks of the backup, of the restored database against the manifest, and of health.
  returned: always
  type: list
  elements: dict
pre_restore_backup:
  description: Path of the backup taken before the restore.
  returned: when taken
  type: str
kept_as:
  description: With O(mode=swap), the name the old database is kept under.
  returned: when swapped
  type: str
tables:
  description: Row counts of the restored database.
  returned: changed
  type: dict
duration:
  description: Seconds the restore took, checks included (not the Ansible start-up around it).
  returned: success
  type: float
outcome:
  description: After a failure or a rerun that found an interrupted restore, what the database holds now
    (C(restored), C(original), or C(empty) when there was nothing to put back).
  returned: when a restore was settled
  type: str
resumed:
  description: The interrupted restore a rerun found (its phase, mode, path and start time).
  returned: when a rerun found one
  type: dict
report_lines:
  description: Steps and checks as readable lines.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts, options
from ansible_collections.quickbite.ops.plugins.module_utils.db import connection, loading
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import access_argument_spec, make_client
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Interrupted
from ansible_collections.quickbite.ops.plugins.module_utils.db.restore import RestoreRun, restore_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import target_lock


def lines(result):
    out = list(result['steps'])
    out += ['%s %s: %s' % ('ok  ' if c['ok'] else 'FAIL', c['check'], c['evidence']) for c in result['checks']]
    return out


def main():
    module, adapter = connection.database_module(options.argument_spec(
        options.platform_argument_spec(), options.backend_argument_spec(), options.database_argument_spec(),
        options.database_login_argument_spec(), options.database_client_argument_spec(),
        options.database_admin_argument_spec(), access_argument_spec(), options.backup_loading_argument_spec(),
        options.wait_argument_spec(), restore_argument_spec()))
    run = None
    try:
        p = module.params
        if p['mode'] == 'replace' and p['pre_restore_backup']:
            _artefacts.refuse_ephemeral(p['backup_dir'], 'the pre-restore backup',
                                        'restore_db_backup_dir (quickbite_backup_dir)', 'restore_db_allow_ephemeral',
                                        p['allow_ephemeral'])
        target = connection.resolve_target(module, adapter)
        client = make_client(module, adapter, target, loading.admin_target(module, target, adapter))
        run = RestoreRun(module, adapter.get(), client)
        with target_lock(adapter, 'restore database %s' % target.dbname, module.check_mode):
            result = run.plan() if module.check_mode else run.run()
    except QuickbiteError as exc:
        details = dict(exc.details)
        if run is not None:
            details.update(run.result, report_lines=lines(run.result))
        module.fail_json(msg=exc.msg, **details)
    except Interrupted as exc:
        done = '; '.join(run.result['steps'] if run else []) or 'nothing'
        module.fail_json(msg='restore interrupted (%s) after: %s' % (exc, done))
    # One answer for check mode and the run: a restore always changes the database.
    result['changed'] = True
    result['report_lines'] = lines(result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
