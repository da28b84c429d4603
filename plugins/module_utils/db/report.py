# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readable lines for the database procedures' reports."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def human_size(size):
    value = float(size or 0)
    for unit in ('B', 'KB', 'MB', 'GB'):
        if value < 1024 or unit == 'GB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0


def backup_lines(result, check_mode):
    lines = []
    if check_mode:
        lines.append('would write %s (%s, %s)' % (result['path'], result['format'], result['compression']))
        for path in result.get('would_remove_leftovers') or []:
            lines.append('would remove %s, left by a run that died' % path)
        for path in result.get('would_delete') or []:
            lines.append('retention would delete %s' % path)
        if not result.get('would_delete'):
            lines.append('retention would delete nothing')
        return lines
    m = result['manifest']
    tables = m.get('tables') or {}
    lines.append('backup %s: %s, %s %s, sha256 %s' % (result['path'], human_size(m['size']), m['format'],
                                                      m['compression'], m['sha256'][:16]))
    lines.append('database %s (PostgreSQL %s, %s), Flyway version %s, %d tables, %d rows' % (
        m['database'], m['server_version'], human_size(m['database_size']), m['flyway_version'] or 'none',
        len(tables), sum(tables.values())))
    if m.get('flyway_failed_rows'):
        lines.append('WARNING: flyway_schema_history has %d failed row(s); see playbooks/flyway_repair.yml'
                     % m['flyway_failed_rows'])
    lines.append('took %.1f s (pg_dump pipeline %.1f s)' % (m['duration'], m['pipeline_duration']))
    for path in result.get('removed_leftovers') or []:
        lines.append('removed %s, left by a run that died' % path)
    for path in result.get('deleted') or []:
        lines.append('retention deleted %s' % path)
    return lines
