# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Flyway migration conflict": report flyway_schema_history
as its SELECT does (applied, failed, pending), and repair it as its DELETE
does, after a backup copy of the table; then restart the backend so it
retries, and check its health.

Check mode computes the same plan as a real run from the same rows and
stops before the transaction."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import time
import zlib

from ansible_collections.quickbite.ops.plugins.module_utils.db import _flyway_table as table
from ansible_collections.quickbite.ops.plugins.module_utils.errors import Changes, ConfigError, QuickbiteError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.health.backend import health_checks
from ansible_collections.quickbite.ops.plugins.module_utils.ops import restart

MIGRATION_RE = re.compile(r'^V(\d+(?:[._]\d+)*)__(.+)\.sql$')
BACKUP_PREFIX = table.TABLE + '_backup_'


# --------------------------------------------------------------------------- versions and files
def version_key(version):
    """Flyway's order: numeric parts compared one by one, a missing part
    counting as 0, so 1.10 > 1.9 and 1.0 == 1. None for an unversioned
    (repeatable) row or a version Flyway could not have written."""
    if version is None:
        return None
    try:
        parts = [int(p) for p in re.split(r'[._]', str(version).strip())]
    except ValueError:
        return None
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def checksum(raw):
    """Flyway's checksum of a SQL file: CRC32 over its lines without their
    terminators (and without a BOM), as a signed 32-bit integer."""
    text = raw.decode('utf-8')
    if text.startswith(u'\ufeff'):
        text = text[1:]
    lines = re.split(r'\r\n|\r|\n', text)
    if text.endswith(('\n', '\r')):
        lines = lines[:-1]
    crc = 0
    for line in lines:
        crc = zlib.crc32(line.encode('utf-8'), crc) & 0xffffffff
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def scan(dirs):
    """Versioned migrations ``V<version>__<description>.sql`` under ``dirs``
    (recursively, as Flyway scans a location), sorted by version; and the
    versions found in more than one file."""
    found, problems = {}, []
    for top in dirs:
        if not os.path.isdir(top):
            raise ConfigError('migrations_dir %s is not a directory on this host; set flyway_repair_migrations_dir '
                              'to the directories of V<version>__<description>.sql files the deployment runs, '
                              'or leave it empty to report pending migrations as unknown' % top)
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            for name in sorted(files):
                match = MIGRATION_RE.match(name)
                if not match:
                    continue
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    raw = handle.read()
                entry = dict(version=match.group(1).replace('_', '.'), description=match.group(2).replace('_', ' '),
                             script=name, path=path, checksum=checksum(raw))
                key = version_key(entry['version'])
                if key in found:
                    problems.append('version %s is in more than one file: %s and %s (Flyway refuses to start)'
                                    % (entry['version'], found[key]['path'], path))
                    continue
                found[key] = entry
    return [found[key] for key in sorted(found)], problems


# --------------------------------------------------------------------------- analysis
def analyze(rows, files=None, file_problems=()):
    """Applied and failed rows, the newest applied version, and when the
    deployment's files are known: pending (newer than the newest applied),
    ignored (older, never applied) and mismatches between rows and files."""
    applied = [r for r in rows if r['success']]
    failed = [r for r in rows if not r['success']]
    versioned = dict((version_key(r['version']), r) for r in applied if version_key(r['version']) is not None)
    newest = max(versioned) if versioned else None
    result = dict(applied_rows=applied, failed_rows=failed, pending=None, ignored=None,
                  newest_version=versioned[newest]['version'] if newest else None, mismatches=list(file_problems))
    if files is None:
        return result
    by_key = dict((version_key(f['version']), f) for f in files)
    result['pending'] = [f for f in files if newest is None or version_key(f['version']) > newest]
    result['ignored'] = [f for f in files if newest is not None and version_key(f['version']) <= newest
                         and version_key(f['version']) not in versioned]
    for key in sorted(versioned):
        row, found = versioned[key], by_key.get(key)
        if found is None:
            result['mismatches'].append('version %s (%s) is applied but has no file in migrations_dir'
                                        % (row['version'], row['script']))
        elif found['script'] != row['script']:
            result['mismatches'].append('version %s was applied as %s, the file is now %s'
                                        % (row['version'], row['script'], found['script']))
        elif row['checksum'] is not None and found['checksum'] != row['checksum']:
            result['mismatches'].append(
                'version %s (%s): checksum %s applied, %s in the file (changed after it was applied; Flyway '
                'validation fails)' % (row['version'], row['script'], row['checksum'], found['checksum']))
    return result


def ddl_warnings(failed):
    return ['the failed migration %s (%s) is not undone by deleting its history row: check the schema for what it '
            'did before it failed (PostgreSQL rolls back a migration run in one transaction, not CREATE INDEX '
            'CONCURRENTLY or a script that commits part-way) and fix the migration before the backend retries it'
            % (r['version'], r['script']) for r in failed]


# --------------------------------------------------------------------------- report
def table_lines(rows):
    """The runbook's SELECT version, description, success, aligned like psql."""
    cells = [('version', 'description', 'success')]
    cells += [(r['version'] or '', r['description'], 't' if r['success'] else 'f') for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = [' ' + ' | '.join(c[i].ljust(widths[i]) for i in range(3)).rstrip() for c in cells]
    lines.insert(1, '-' + '-+-'.join('-' * w for w in widths) + '-')
    return lines


def _listing(entries):
    return ', '.join('%s (%s)' % (e['version'], e['description']) for e in entries)


def report_lines(where, rows, analysis):
    lines = ['%s in %s: %d row(s), %d applied, %d failed; newest applied version %s'
             % (table.TABLE, where, len(rows), len(analysis['applied_rows']), len(analysis['failed_rows']),
                analysis['newest_version'] or 'none')]
    lines += table_lines(rows)
    if analysis['failed_rows']:
        lines.append('failed: %s' % _listing(analysis['failed_rows']))
    if analysis['pending'] is None:
        lines.append('pending: unknown (the migration files are inside the backend image; set migrations_dir, '
                     'flyway_repair_migrations_dir in the playbook, to a copy of them to compare)')
    else:
        failed_versions = set(version_key(r['version']) for r in analysis['failed_rows'])
        lines.append('pending: %s' % (', '.join(
            '%s (%s)%s' % (f['version'], f['description'],
                           ', failed before' if version_key(f['version']) in failed_versions else '')
            for f in analysis['pending']) or 'none'))
        if analysis['ignored']:
            lines.append('ignored (older than the newest applied version, never applied): %s'
                         % _listing(analysis['ignored']))
    lines += ['mismatch: %s' % m for m in analysis['mismatches']]
    return lines


# --------------------------------------------------------------------------- procedure
def backup_name(clock=time.gmtime):
    return BACKUP_PREFIX + time.strftime('%Y%m%d_%H%M%S', clock())


def _restart_and_verify(adapter, params):
    steps = restart.plan(adapter, ['backend'], False, None, 'auto')
    outcome = restart.run(adapter, steps, False, params['wait_timeout'], False)
    checks = [dict(check=name, ok=ok, evidence=evidence)
              for name, ok, evidence in health_checks(adapter, params['backend_url'], params['wait_timeout'],
                                                      params['validate_certs'])]
    return outcome, checks


def unconfirmed(target, failed, confirm):
    """The refusal of a repair whose ``confirm`` is not the database's name
    (as pg_restore's): None when confirmed."""
    if confirm == target.dbname:
        return None
    return ('refusing to repair %s in database %s: it deletes %d failed row(s) (%s) and restarts the backend; '
            'run with --check to see them, then set flyway_repair_confirm (module option confirm) to %s, the '
            "database's name, to confirm (it is now %s). Nothing was changed."
            % (table.TABLE, target.dbname, len(failed), _listing(failed), target.dbname,
               repr(confirm) if confirm else 'empty'))


def run(target, adapter, params, check_mode, clock=time.gmtime, history=None):
    """Report, or repair when ``params['state'] == 'repair'``; the result
    the module returns (``warnings`` for module.warn). ``history``: where the
    table's SQL runs, _flyway_table (libpq, the default) or a
    _flyway_exec.ExecTable (psql in the database's container or pod)."""
    history = history or table
    files, problems = scan(params['migrations_dir']) if params.get('migrations_dir') else (None, [])
    schema, rows = history.read(target)
    analysis = analyze(rows, files, problems)
    failed = analysis['failed_rows']
    result = dict(changed=False, history=rows, deleted=[], backup_table=None, restart=None, checks=[],
                  warnings=ddl_warnings(failed), **analysis)
    lines = report_lines(getattr(history, 'where', None) or target.describe(), rows, analysis)
    result['report_lines'] = lines
    repair = params['state'] == 'repair'
    if not failed:
        lines.append('no failed migration: nothing to repair')
        return result
    if not repair:
        lines.append('to delete the failed row(s) after a backup copy of the table: state=repair '
                     '(playbook: flyway_repair_state=repair flyway_repair_confirm=%s)' % target.dbname)
        return result
    refusal = unconfirmed(target, failed, params.get('confirm'))
    if refusal and not check_mode:
        raise ConfigError(refusal)
    backup = history.free_name(target, schema, backup_name(clock))
    result.update(changed=True, deleted=failed, backup_table=backup,
                  diff=dict(before='\n'.join(table_lines(rows)) + '\n',
                            after='\n'.join(table_lines(analysis['applied_rows'])) + '\n'))
    if check_mode:
        lines.append('would copy %s to %s and delete %d failed row(s): %s'
                     % (table.TABLE, backup, len(failed), _listing(failed)))
        if params['restart']:
            lines.append('would restart the backend and check its health')
        if refusal:
            lines.append('a real run is refused without the confirmation: ' + refusal)
            result['warnings'].append(refusal)
        return result
    comment = 'quickbite.ops flyway_repair: %s before deleting failed row(s) %s' % (table.TABLE, _listing(failed))
    with Changes() as changes:
        copied, deleted, left = history.repair(target, schema, backup, failed, comment)
        changes.made = True  # the table was copied, the rows deleted
        still = [r for r in left if not r['success']]
        if still:
            raise VerificationError('%s still has failed rows after the repair: %s; the copy is in %s'
                                    % (table.TABLE, _listing(still), backup), backup_table=backup)
        result.update(deleted=deleted)
        lines.append('copied %d row(s) to %s; deleted %d failed row(s): %s'
                     % (copied, backup, len(deleted), _listing(deleted)))
        if not params['restart']:
            lines.append('backend not restarted (restart=false): it retries the migration on its next start')
            return result
        undone = ('; what the failed migration did before it failed was not undone: check the schema and the '
                  'migration, then run the restart playbook')
        try:
            outcome, checks = _restart_and_verify(adapter, params)
        except QuickbiteError as exc:
            raise VerificationError('%s repaired (backup in %s, deleted %s), but the backend did not come back%s: %s'
                                    % (table.TABLE, backup, _listing(deleted), undone, exc.msg),
                                    backup_table=backup, deleted=deleted, report_lines=lines, **exc.details)
        result.update(restart=outcome, checks=checks)
        lines.append(outcome['msg'])
        lines += ['%s %s %s' % (c['check'], 'UP  ' if c['ok'] else 'DOWN', c['evidence']) for c in checks]
        bad = [c['check'] for c in checks if not c['ok']]
        if bad:
            raise VerificationError('%s repaired (backup in %s, deleted %s), but after the restart %s failed%s:\n%s'
                                    % (table.TABLE, backup, _listing(deleted), ', '.join(bad), undone, '\n'.join(lines)),
                                    backup_table=backup, deleted=deleted, checks=checks, report_lines=lines)
        return result
