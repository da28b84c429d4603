#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: verify_backup
short_description: Prove a QuickBite backup restorable in a throw-away database
version_added: 0.1.0
description:
  - The runbook's Verify Backup Integrity, done whole. Checks the C(.sha256) sidecar and reads the archive to its end,
    restores it into a throw-away database (O(database), C(quickbite_test) by default), checks
    C(flyway_schema_history) (no failed rows, the newest version equal to the manifest's) and the row count of every
    table against the counts the backup recorded in its snapshot, reports, and always drops the throw-away database,
    failure included.
  - The outcome is written into the backup's manifest (C(verification)); retention in M(quickbite.ops.pg_backup)
    never deletes the newest verified backup.
  - Backups without a manifest (the runbook's old C(backup-db.sh) files) need O(allow_foreign_backup=true); they are
    restored and their Flyway history checked; their row counts cannot be compared and the report says so.
  - Fails, listing each failed check with its evidence, when any check fails. The live database is never touched.
author:
  - QuickBite operations (@quickbite)
extends_documentation_fragment:
  - quickbite.ops.platform
  - quickbite.ops.database
  - quickbite.ops.database.login
  - quickbite.ops.database.client
  - quickbite.ops.database_admin
  - quickbite.ops.database_access
  - quickbite.ops.backup_loading
attributes:
  check_mode:
    support: full
    description: Creates no database and reports what it would restore; reports C(changed=true), as the run does (a
      scratch database is created and dropped, and with O(record) the manifest is written).
  diff_mode:
    support: none
    description: Reports its changes in its result, not as a diff.
options:
  path:
    description:
      - The backup to verify; the newest complete backup in O(dest_dir) when omitted.
    type: path
  dest_dir:
    description:
      - Directory of the backups, searched when O(path) is omitted.
    type: path
    default: /opt/quickbite/backups
  prefix:
    description:
      - File name prefix of the backups in O(dest_dir).
    type: str
    default: quickbite
  database:
    description:
      - "The throw-away database. It is marked with a comment (C(quickbite.ops scratch: verify_backup <time> pid <pid>))
        right after it is created and dropped after the check, failure included. A database of this name left by a
        killed run (it carries the mark) is dropped and created again; one without the mark is never dropped (the
        module refuses, naming it)."
      - Must differ from O(db_name) (compared as PostgreSQL keeps names, cut to 63 bytes).
    type: str
    default: quickbite_test
  record:
    description:
      - Write the outcome into the backup's manifest.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Verify last night's backup
  quickbite.ops.verify_backup:
    platform: compose
    project_dir: /opt/quickbite
    dest_dir: /opt/quickbite/backups
'''

RETURN = r'''
path:
  description: The backup verified.
  returned: always
  type: str
ok:
  description: Whether every check passed.
  returned: always
  type: bool
checks:
  description: Each check with C(check), C(ok) and C(evidence).
  returned: always
  type: list
  elements: dict
tables:
  description: Row counts of the restored tables.
  returned: always
  type: dict
report_lines:
  description: The outcome and each check with its evidence, as readable lines.
  returned: always
  type: list
  elements: str
'''

from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.db import connection, loading, verify
from ansible_collections.quickbite.ops.plugins.module_utils.db.client import access_argument_spec, make_client
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Interrupted
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import target_lock


def main():
    module, adapter = connection.database_module(options.argument_spec(
        options.platform_argument_spec(), options.database_argument_spec(), options.database_login_argument_spec(),
        options.database_client_argument_spec(), options.database_admin_argument_spec(), access_argument_spec(),
        options.backup_loading_argument_spec(),
        path=dict(type='path'),
        dest_dir=dict(type='path', default='/opt/quickbite/backups'),
        prefix=dict(type='str', default='quickbite'),
        database=dict(type='str', default='quickbite_test'),
        record=dict(type='bool', default=True),
    ))
    p = module.params
    try:
        target = connection.resolve_target(module, adapter)
        path = p['path'] or verify.latest(p['dest_dir'], p['prefix'])
        client = make_client(module, adapter, target, loading.admin_target(module, target, adapter))
        if module.check_mode:
            # The refusals a run would make before touching anything: scratch name, foreign backup, unmarked database.
            verify.check_inputs(path, target.dbname, p['database'], p['allow_foreign_backup'], p['jobs'])
            verify.scratch_leftover(client.admin(), p['database'])
            plan = 'would restore %s into %s, compare it with its manifest, then drop %s' % (
                path, p['database'], p['database'])
            module.exit_json(changed=True, path=path, ok=True, checks=[], tables={}, report_lines=[plan])
        # A scratch database is created and dropped on the target: the target's lock.
        with target_lock(adapter, 'verify backup %s' % path):
            result = verify.verify(path, client, target.dbname, p['database'], p['record'], p['allow_foreign_backup'],
                                   p['jobs'])
    except QuickbiteError as exc:
        # changed only when the scratch database was created or the manifest written (the error says so);
        # a refusal changed nothing.
        module.fail_json(msg=exc.msg, **dict(exc.details, changed=bool(exc.details.get('changed'))))
    except Interrupted as exc:
        module.fail_json(msg='verification interrupted (%s); the throw-away database %s was dropped'
                         % (exc, p['database']), changed=True)
    lines = ['backup %s %s' % (result['path'], 'VERIFIED' if result['ok'] else 'FAILED verification')]
    lines += ['%s %s: %s' % ('ok  ' if c['ok'] else 'FAIL', c['check'], c['evidence']) for c in result['checks']]
    result['report_lines'] = lines
    # One answer for check mode and the run: a scratch database was created and
    # dropped on the server (and with record the manifest written).
    result['changed'] = True
    if not result['ok']:
        module.fail_json(msg='backup %s failed verification: %s' % (result['path'], '; '.join(
            '%s (%s)' % (c['check'], c['evidence']) for c in result['checks'] if not c['ok'])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
