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
'''
