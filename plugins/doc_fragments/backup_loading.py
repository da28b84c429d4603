# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The option of every module that loads a backup (pg_restore, verify_backup); checked by db/integrity.require_own.
    # Paired with options.backup_loading_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  allow_foreign_backup:
    description:
      - Load a backup that may hold what someone else wrote. Without it the module refuses, before anything is touched, a
        backup not owned by the user running the module, writable by group or others, in a directory others may write
        to, or without the C(.manifest.json) and C(.sha256) pg_backup writes (the runbook's old C(backup-db.sh) files).
      - A plain backup is always scanned for psql meta-commands (such as C(\! command)) outside COPY data and refused
        if it holds one, with or without this option; every backup is loaded as the database owner (O(db_user)),
        never the superuser.
    type: bool
    default: false
  jobs:
    description:
      - Connections that load a plain SQL backup (or C(pg_restore --jobs) of a directory backup), the schema first,
        then the tables' data side by side, then the indexes and constraints. C(1) loads it in one transaction; at
        least C(1).
      - With more than one, a plain backup loaded into a database with nothing to lose (the throw-away database of
        M(quickbite.ops.verify_backup), the new database of a swap-mode restore, a database that does not exist or
        is empty) has its sha256, meta-command scan and closing line checked on the bytes the load reads, instead of
        in a read of its own first; a failed check stops the load and undoes it.
    type: int
    default: 2
'''
