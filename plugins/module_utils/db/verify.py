# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify a backup the way the runbook does by hand, and then some: restore
it into a throw-away database, check flyway_schema_history and the row
counts against the manifest, always drop the throw-away database, and record
the outcome in the manifest (retention never deletes the newest verified
backup).

The throw-away database is marked (COMMENT ON DATABASE, MARK) right after
CREATE; a database of that name without the mark is never dropped. It is
never the live database, compared as PostgreSQL keeps names (63 bytes)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import time

from ansible_collections.quickbite.ops.plugins.module_utils.db import archive, integrity, loading
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError

OPTION_FOREIGN = 'verify_backup_allow_foreign_backup'
# The comment a scratch database gets right after CREATE: only a database
# carrying it is ever dropped (a leftover of a killed run included).
MARK = 'quickbite.ops scratch: verify_backup'
NAMEDATALEN = 64


def latest(dest_dir, prefix):
    backups, leftovers = archive.list_backups(dest_dir, prefix)
    if not backups:
        raise ConfigError('no backup in %s (prefix %s) to verify; take one with playbooks/backup_db.yml or pass '
                          'verify_backup_path' % (dest_dir, prefix))
    return backups[-1]['path']


def server_name(name):
    """The name PostgreSQL keeps: at most 63 bytes, never cut inside a character."""
    return name.encode('utf-8')[:NAMEDATALEN - 1].decode('utf-8', 'ignore')


def require_scratch_not_live(live_db, scratch_db):
    if server_name(scratch_db) == server_name(live_db):
        raise ConfigError('refusing verify_backup_database %s: it is the live database %s (quickbite_db_name, or '
                          'DB_NAME of the deployment)%s, which the verification would drop; nothing was touched. Set '
                          'verify_backup_database to another name, such as quickbite_test'
                          % (scratch_db, live_db, ' once PostgreSQL cuts it to 63 bytes' if scratch_db != live_db
                             else ''))


def check_inputs(path, live_db, scratch_db, allow_foreign, jobs=1):
    """The refusals that need no database: the scratch name, the jobs, a foreign
    backup. Returns (format, compression, manifest, the ownership check line)."""
    require_scratch_not_live(live_db, scratch_db)
    loading.require_jobs(jobs, 'verify_backup_jobs')
    fmt, comp, manifest = integrity.describe(path)
    return fmt, comp, manifest, integrity.require_own(path, allow_foreign, OPTION_FOREIGN)


def scratch_leftover(db, scratch_db):
    """True when ``scratch_db`` is a leftover of an earlier verification (it
    carries MARK), False when it does not exist; refuses any other database."""
    if not db.exists(scratch_db):
        return False
    comment = db.comment(scratch_db) or ''
    if comment.startswith(MARK):
        return True
    raise ConfigError('refusing to verify into database %s: it exists and was not created by quickbite.ops (its '
                      'comment is %s, not "%s ..."), so it may hold data, and verification drops its scratch database; '
                      'nothing was touched. Choose another verify_backup_database, or drop %s by hand once you know '
                      'it is not needed' % (scratch_db, repr(comment) if comment else 'empty', MARK, scratch_db),
                      database=scratch_db)


def _changed(call, *args):
    """``call`` after this run changed something: its failure says so (changed=True)."""
    try:
        return call(*args)
    except QuickbiteError as exc:
        exc.details['changed'] = True
        raise


def verify(path, client, live_db, scratch_db, record=True, allow_foreign=False, jobs=1):
    """Returns the result dict; ``ok`` False when a check failed (the caller fails the task).
    With ``jobs`` above 1 a plain backup loads in parallel and, the scratch
    database having nothing to lose, is checked on the way (integrity.check_streamed)."""
    started = time.time()
    fmt, comp, manifest, own = check_inputs(path, live_db, scratch_db, allow_foreign, jobs)
    counts, version, checks = {}, None, []
    db = client.admin()
    leftover = scratch_leftover(db, scratch_db)
    created = False
    try:
        if jobs > 1:
            lines, streamed = integrity.check_streamed(path, client, allow_foreign, OPTION_FOREIGN)[3:]
        else:
            lines, streamed = integrity.check(path, client, allow_foreign, OPTION_FOREIGN)[3], None
        checks.extend(('backup reads back whole', True, line) for line in lines)
        if leftover:
            db.drop(scratch_db)
        db.create(scratch_db)
        created = True
        db.set_comment(scratch_db, '%s %s pid %d' % (
            MARK, datetime.datetime.now().astimezone().isoformat(timespec='seconds'), os.getpid()))
        pipe = loading.load(path, fmt, comp, client, scratch_db, jobs, streamed, inspect=lambda: db.inspect(scratch_db))
        checks.extend(('backup reads back whole', True, line) for line in pipe.check_lines)
        counts, version, failed = pipe.inspected
        checks.append(('restores into %s' % scratch_db, True, 'loaded in %.1f s' % pipe.duration))
        checks.extend(loading.compare(manifest, counts, version, failed))
    except QuickbiteError as exc:
        checks.append(('backup restores', False, exc.msg))
    except BaseException as exc:  # Interrupted, or an error the checks do not catch: say what changed
        if created and isinstance(exc, QuickbiteError):
            exc.details['changed'] = True
        raise
    finally:
        if created:  # this run's own database; the load ran as its owner and may have changed its comment
            _changed(db.drop, scratch_db)
    ok = all(c[1] for c in checks)
    outcome = dict(ok=ok, at=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
                   database=scratch_db, failed=[c[0] for c in checks if not c[1]])
    if record and manifest is not None:
        manifest['verification'] = outcome
        _changed(archive.write_manifest, path, manifest)
    return dict(path=path, ok=ok, format=fmt, compression=comp, manifest_found=manifest is not None,
                checks=[dict(check=c[0], ok=c[1], evidence=c[2]) for c in checks], rows=sum(counts.values()),
                tables=counts, flyway_version=version, stale_database_dropped=leftover and created,
                duration=round(time.time() - started, 3), recorded=bool(record and manifest is not None))
