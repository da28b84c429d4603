#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pg_backup
short_description: Back up the QuickBite database atomically, with checksum, manifest and retention
version_added: 0.1.0
description:
  - The runbook's C(./ops/backup-db.sh), to the standard of pgBackRest rather than of a shell pipe.
  - "Consistent: row counts, the newest Flyway version and the server version are read in the same snapshot that
    C(pg_dump --snapshot) dumps, and recorded in the manifest, so M(quickbite.ops.verify_backup) can compare a
    restore against them."
  - "Atomic: written as C(<name>.partial), fsynced, renamed; then a C(.sha256) sidecar (C(sha256sum -c) format) and
    a C(.manifest.json), written last as the commit mark; all mode 0600. Every stage of the pipeline is checked
    (a failed C(pg_dump), compressor or write fails the task), the new archive's table of contents must list the data
    of every table counted, and on any failure, including SIGTERM and a full disk, the partial file is removed and
    older backups are untouched. Leftovers of a run killed outright (SIGKILL, power loss) are removed by the next run."
  - "Streaming: the output passes through the module in 1 MiB blocks; its memory does not grow with the database."
  - "Default: plain SQL (the runbook's format) compressed in the stream by C(zstd -1 -T2) (C(.sql.zst)), chosen by
    measurement on a 1 GB QuickBite-like database: as fast as C(pg_dump) can read, smaller than the runbook's
    C(pg_dump | gzip), and restored faster. PostgreSQL 15 compresses custom archives only with gzip (about 2 times
    slower), and an uncompressed custom archive compressed in the stream comes out larger (every row carries a length
    header). The figures are in benchmarks/backup/README.md. Custom and directory archives remain available for
    selective restores."
  - "Retention after success only: keeps the newest O(keep_last) and those younger than O(keep_days), and never
    deletes the newest backup or the newest verified one. Check mode lists what would be written and deleted."
  - Runs under a lock on O(dest_dir), so two backups (a scheduled one and a manual one) never overlap.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.database.client
  - quickbite.ops.database_access
attributes:
  check_mode:
    support: full
    description: Writes nothing and lists the backup it would write and what retention would delete; reports
      C(changed=true), as the run does (a backup always writes a new file).
  diff_mode:
    support: none
    description: Reports its changes in its result, not as a diff.
requirements:
  - C(zstd) on the host that runs the module for the default compression.
options:
  dest_dir:
    description:
      - Directory of the backups (created 0700 when missing). It must belong to the user the module runs as and be
        writable by no one else (its parents not writable by others either); otherwise the backup is refused, naming
        its mode. Files in it are created C(O_EXCL|O_NOFOLLOW), so a planted symlink is never followed.
    type: path
    default: /opt/quickbite/backups
  allow_ephemeral:
    description:
      - Write to O(dest_dir) even when this run is in an AWX or ansible-runner execution environment (C(/runner), C(AWX_*))
        and the path is not on a mounted volume, so it would be lost with the job. Refused otherwise, naming the
        variable to set.
    type: bool
    default: false
  prefix:
    description:
      - File name prefix; names are C(<prefix>_YYYYmmdd_HHMMSS) plus the extension of the format.
      - A plain name matching C(^[A-Za-z0-9._-]+$), not C(.) or C(..); anything else (a C(/), C(../x)) is refused.
    type: str
    default: quickbite
  format:
    description:
      - C(custom) (C(.dump.zst) with zstd, C(.dump) otherwise; restored with C(pg_restore)), C(directory)
        (C(.dir), dumped with O(jobs) parallel jobs, gzip or no compression) or C(plain) SQL (C(.sql.zst),
        C(.sql.gz) like the runbook's C(backup-db.sh), or C(.sql)).
    type: str
    default: plain
    choices: [custom, directory, plain]
  compression:
    description:
      - C(zstd) in the stream, C(gzip) (inside the archive for custom and directory, C(gzip) in the stream for plain)
        or C(none).
    type: str
    default: zstd
    choices: [zstd, gzip, none]
  compression_level:
    description:
      - Compression level; 1 for zstd and 6 for gzip when omitted.
    type: int
  compression_threads:
    description:
      - Threads of C(zstd) (C(-T)); 0 uses every core.
    type: int
    default: 2
  jobs:
    description:
      - Parallel dump jobs for the directory format.
    type: int
    default: 2
  count_rows:
    description:
      - Record exact row counts of every table, read in the dump's snapshot, for verification.
    type: bool
    default: true
  lock_wait_timeout:
    description:
      - Seconds C(pg_dump) waits for a table lock (held by a migration, say) before it fails rather than hanging.
    type: int
    default: 120
  lock_timeout:
    description:
      - Seconds to wait for another backup on O(dest_dir) to finish before failing.
    type: int
    default: 10
  keep_last:
    description:
      - Retention by count; 0 turns the rule off.
    type: int
    default: 0
  keep_days:
    description:
      - Retention by age in days; 0 turns the rule off. With both rules off nothing is deleted.
    type: int
    default: 0
'''

EXAMPLES = r'''
- name: Nightly backup, keep two weeks
  quickbite.ops.pg_backup:
    platform: compose
    project_dir: /opt/quickbite
    db_port: 5432
    dest_dir: /opt/quickbite/backups
    keep_days: 14
'''

RETURN = r'''
path:
  description: The backup written (or that would be written, in check mode).
  returned: always
  type: str
manifest:
  description: The manifest written beside the backup (database, server version, format, size, sha256, newest Flyway
    version, row counts, start, end, duration).
  returned: changed
  type: dict
size:
  description: Size of the backup in bytes.
  returned: changed
  type: int
sha256:
  description: SHA-256 of the backup file (of the sidecar for the directory format).
  returned: changed
  type: str
duration:
  description: Seconds the whole backup took.
  returned: changed
  type: float
pipeline_duration:
  description: Seconds the dump pipeline itself ran.
  returned: changed
  type: float
peak_memory:
  description: Peak resident memory in MB of the module and of each pipeline stage.
  returned: changed
  type: dict
deleted:
  description: Backups removed by retention.
  returned: always
  type: list
  elements: str
retention_skipped:
  description: Backups that retention kept because their manifest holds no valid C(started) time, each with the
    reason and what to do; each is also a warning.
  returned: always
  type: list
  elements: str
would_delete:
  description: In check mode, the backups retention would remove.
  returned: check mode
  type: list
  elements: str
removed_leftovers:
  description: Partial files and manifest-less files of earlier runs that died, removed.
  returned: always
  type: list
  elements: str
report_lines:
  description: What was done, as readable lines.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts, options
from ansible_collections.quickbite.ops.plugins.module_utils.db import connection
from ansible_collections.quickbite.ops.plugins.module_utils.db.backup import BackupRun, backup_argument_spec
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import access_argument_spec, make_client
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Interrupted
from ansible_collections.quickbite.ops.plugins.module_utils.db.report import backup_lines
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError


def _failed_run_changed(run, details):
    """A run that failed still changed something when it removed leftovers or
    expired backups before failing."""
    done = run.result if run is not None else {}
    return bool(details.get('changed') or done.get('changed') or done.get('removed_leftovers') or done.get('deleted'))


def main():
    module, adapter = connection.database_module(options.argument_spec(
        options.platform_argument_spec(), options.database_argument_spec(), options.database_login_argument_spec(),
        options.database_client_argument_spec(), access_argument_spec(), backup_argument_spec()))
    run = None
    try:
        _artefacts.refuse_ephemeral(module.params['dest_dir'], 'the backup', 'backup_db_dest_dir (quickbite_backup_dir)',
                                    'backup_db_allow_ephemeral', module.params['allow_ephemeral'])
        client = make_client(module, adapter, connection.resolve_target(module, adapter))
        run = BackupRun(client, module.params)
        result = run.plan() if module.check_mode else run.run()
    except QuickbiteError as exc:
        module.fail_json(msg=exc.msg, **dict(exc.details, changed=_failed_run_changed(run, exc.details)))
    except Interrupted as exc:
        module.fail_json(msg='backup interrupted (%s): the partial file was removed, older backups are untouched'
                         % exc, changed=_failed_run_changed(run, {}))
    # One answer for check mode and the run: a backup always writes a new file.
    result['changed'] = True
    if result.get('manifest'):
        for key in ('size', 'sha256', 'duration', 'pipeline_duration'):
            result[key] = result['manifest'][key]
    result['report_lines'] = backup_lines(result, module.check_mode)
    for skipped in result.get('retention_skipped') or []:
        module.warn(skipped)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
