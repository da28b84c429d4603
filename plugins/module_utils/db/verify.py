# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify a backup the way the runbook does by hand, and then some: restore
it into a throw-away database, check flyway_schema_history and the row
counts against the manifest, always drop the throw-away database, and record
the outcome in the manifest (retention never deletes the newest verified
backup)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db import archive, integrity, restore
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError


def latest(dest_dir, prefix):
    backups, leftovers = archive.list_backups(dest_dir, prefix)
    if not backups:
        raise ConfigError('no backup in %s (prefix %s) to verify; take one with playbooks/backup_db.yml or pass '
                          'verify_backup_path' % (dest_dir, prefix))
    return backups[-1]['path']


def verify(path, client, live_db, scratch_db, record=True):
    """Returns the result dict; ``ok`` False when a check failed (the caller fails the task)."""
    restore.require_distinct(live_db, scratch_db, 'verify_backup_database')
    started = time.time()
    fmt, comp, manifest = integrity.describe(path)
    counts, version, checks = {}, None, []
    db = client.admin()
    dropped_stale = db.exists(scratch_db)
    try:
        lines = integrity.check(path, client)[3]
        checks.extend(('backup reads back whole', True, line) for line in lines)
        db.drop(scratch_db)
        db.create(scratch_db)
        pipe = restore.load(path, fmt, comp, client, scratch_db)
        counts, version, failed = db.inspect(scratch_db)
        checks.append(('restores into %s' % scratch_db, True, 'loaded in %.1f s' % pipe.duration))
        checks.extend(restore.compare(manifest, counts, version, failed))
    except QuickbiteError as exc:
        checks.append(('backup restores', False, exc.msg))
    finally:
        db.drop(scratch_db)
    ok = all(c[1] for c in checks)
    outcome = dict(ok=ok, at=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
                   database=scratch_db, failed=[c[0] for c in checks if not c[1]])
    if record and manifest is not None:
        manifest['verification'] = outcome
        archive.write_manifest(path, manifest)
    return dict(path=path, ok=ok, format=fmt, compression=comp, manifest_found=manifest is not None,
                checks=[dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks], rows=sum(counts.values()),
                tables=counts, flyway_version=version, stale_database_dropped=dropped_stale,
                duration=round(time.time() - started, 3), recorded=bool(record and manifest is not None))
