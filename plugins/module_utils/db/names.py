# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Database names as PostgreSQL stores them, and the names the collection
derives from the live one (``<db>_restore_<ts>``, ``<db>_pre_restore_<ts>``).

PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1) and
silently drops the rest, cutting only between characters. A derived name
built by appending a suffix to a 63-byte name would therefore come back as
the live name itself: ``DROP DATABASE IF EXISTS <db>_restore_<ts>`` would drop
the live database. So the base is shortened, never the suffix, and every
derived name is checked against the live name and the others after
PostgreSQL's truncation."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

MAX_BYTES = 63


def _clip(name, limit):
    """The longest prefix of ``name`` of at most ``limit`` UTF-8 bytes, never
    cut inside a character (what PostgreSQL's pg_mbcliplen does)."""
    data = name.encode('utf-8')
    if len(data) <= limit:
        return name
    return data[:limit].decode('utf-8', 'ignore')


def pg_name(name):
    """``name`` as PostgreSQL stores it."""
    return _clip(name, MAX_BYTES)


def derived_name(base, suffix):
    """``base + suffix`` within 63 bytes, shortening ``base`` only."""
    room = MAX_BYTES - len(suffix.encode('utf-8'))
    if room < 1:
        raise ConfigError('refusing to derive a database name: the suffix %s alone is longer than PostgreSQL\'s '
                          '%d-byte limit' % (suffix, MAX_BYTES))
    return _clip(base, room) + suffix


def check_distinct(live, derived):
    """Refuse unless every derived name ({role: name}), as PostgreSQL would
    store it, differs from the live database's and from each other."""
    seen = {pg_name(live): 'the live database'}
    for role, name in sorted(derived.items()):
        stored = pg_name(name)
        if stored in seen:
            raise ConfigError('refusing to use %s as the %s: PostgreSQL keeps only %d bytes of a name, and it would '
                              'be the same database as %s (%s); nothing was touched. Rename the database to a shorter '
                              'name (quickbite_db_name) or use restore_db_mode=replace'
                              % (name, role, MAX_BYTES, seen[stored], stored))
        seen[stored] = 'the %s' % role
    return derived


def swap_names(live, stamp):
    """{role: name} of the databases a swap creates, checked."""
    return check_distinct(live, {
        'restored database': derived_name(live, '_restore_%s' % stamp),
        'kept pre-restore database': derived_name(live, '_pre_restore_%s' % stamp),
    })
