# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup directory: names, formats, sidecars, manifests and retention.

A backup is ``<prefix>_YYYYmmdd_HHMMSS<ext>`` with a ``.sha256`` sidecar in
sha256sum's format (``sha256sum -c`` checks it by hand) and a
``.manifest.json``. The manifest is renamed into place last: it is the commit
mark, so a file without one is the remains of a run that died and never
counts as a backup."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import hashlib
import json
import os
import re
import shutil

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

PARTIAL = '.partial'
MANIFEST = '.manifest.json'
SIDECAR = '.sha256'

# (format, compression) -> extension of the backup file or directory.
EXTENSIONS = {
    ('custom', 'zstd'): '.dump.zst',
    ('custom', 'gzip'): '.dump',
    ('custom', 'none'): '.dump',
    ('directory', 'gzip'): '.dir',
    ('directory', 'none'): '.dir',
    ('plain', 'zstd'): '.sql.zst',
    ('plain', 'gzip'): '.sql.gz',
    ('plain', 'none'): '.sql',
}
_STAMP = re.compile(r'_(\d{8}_\d{6})(?:_\d+)?(\.[a-z.]+)$')
_PREFIX = re.compile(r'^[A-Za-z0-9._-]+$')
# The variable that sets the backup directory, for messages.
DIR_VAR = 'backup_db_dest_dir (quickbite_backup_dir)'


def check_prefix(prefix, var='backup_db_prefix'):
    """A prefix is one plain file name: no path separator, no '.' or '..'."""
    if not isinstance(prefix, str) or not _PREFIX.match(prefix) or prefix in ('.', '..'):
        raise ConfigError('%s %r is not a plain name: it must match ^[A-Za-z0-9._-]+$ and not be . or .. (a / or .. '
                          'would put backups outside the backup directory); set %s to a name such as quickbite'
                          % (var, prefix, var))
    return prefix


def backup_name(prefix, fmt, compression, now):
    return '%s_%s%s' % (prefix, now.strftime('%Y%m%d_%H%M%S'), EXTENSIONS[(fmt, compression)])


def unique_path(dest_dir, name):
    """``name`` in ``dest_dir``, with ``_2``, ``_3`` ... before the extension
    when a backup of the same second exists."""
    path = os.path.join(dest_dir, name)
    match = _STAMP.search(name)
    count = 1
    while any(os.path.lexists(p) for p in (path, path + MANIFEST, path + PARTIAL)):
        count += 1
        head = name[:match.start(2)] if match else name
        tail = match.group(2) if match else ''
        path = os.path.join(dest_dir, '%s_%d%s' % (head, count, tail))
    return path


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path, text, mode=0o600):
    """Through _safefs: the backup directory checked, a new temporary file
    (O_EXCL|O_NOFOLLOW), renamed over ``path`` (a symlink there is replaced,
    never followed)."""
    _safefs.write_atomic(path, text, DIR_VAR, mode, create_dir=False)


def sidecar_text(entries):
    """sha256sum format; ``entries`` are (hex, path relative to the backup directory)."""
    return ''.join('%s  %s\n' % (digest, rel) for digest, rel in entries)


def parse_sidecar(text):
    entries = []
    for line in text.splitlines():
        match = re.match(r'^([0-9a-f]{64}) [ *](.+)$', line.strip())
        if match:
            entries.append((match.group(1), match.group(2)))
    return entries


def sha256_text(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def file_sha256(path, bufsize=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while True:
            block = handle.read(bufsize)
            if not block:
                return digest.hexdigest()
            digest.update(block)


def read_manifest(path):
    """The manifest of backup ``path``, or None."""
    try:
        with _safefs.open_nofollow(path + MANIFEST, binary=False) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def write_manifest(path, manifest):
    write_file_atomic(path + MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + '\n')


def detect_format(path):
    """(format, compression) of a backup file or directory from its name and
    first bytes, for backups with no manifest (the runbook's old ones)."""
    if os.path.isdir(path):
        return 'directory', 'none'
    with open(path, 'rb') as handle:
        head = handle.read(5)
    if head.startswith(b'\x28\xb5\x2f\xfd'):
        inner = 'custom' if '.dump' in os.path.basename(path) else 'plain'
        return inner, 'zstd'
    if head.startswith(b'\x1f\x8b'):
        return 'plain', 'gzip'
    if head == b'PGDMP':
        return 'custom', 'none'
    return 'plain', 'none'


def list_backups(dest_dir, prefix):
    """Complete backups (manifest present), oldest first: dicts with path,
    name, manifest. Leftovers of runs that died are returned apart."""
    backups, leftovers = [], []
    if not os.path.isdir(dest_dir):
        return backups, leftovers
    names = sorted(os.listdir(dest_dir))
    present = set(names)
    for name in names:
        if not name.startswith(prefix + '_'):
            continue
        path = os.path.join(dest_dir, name)
        if name.endswith(PARTIAL):
            leftovers.append(path)
            continue
        if name.endswith(MANIFEST) or name.endswith(SIDECAR) or not _STAMP.search(name):
            continue
        manifest = read_manifest(path) if name + MANIFEST in present else None
        if manifest is None:
            leftovers.append(path)
            continue
        backups.append(dict(path=path, name=name, manifest=manifest))
    # A manifest that is not an object (edited by hand) keeps the file a
    # backup, one retention cannot date (see undated()).
    for backup in backups:
        if not isinstance(backup['manifest'], dict):
            backup['manifest'] = {}
    # Oldest first by start time; the undated ones first of all (retention
    # keeps them anyway, and they must not count as the newest).
    backups.sort(key=lambda b: (started(b) is not None, started(b) or _EPOCH, b['name']))
    return backups, leftovers


def remove_backup(path):
    """The backup, its sidecar and manifest (manifest first: once it is gone
    the rest is no longer a backup, whatever happens next)."""
    for extra in (MANIFEST, SIDECAR):
        if os.path.lexists(path + extra):
            os.unlink(path + extra)
    remove_path(path)


def remove_path(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def parse_time(text):
    """ISO-8601 with offset, as written by the backup."""
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S%z')


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def started(backup):
    """When ``backup`` started, from its manifest; None when the manifest
    holds no such time (a hand-edited or foreign manifest)."""
    try:
        return parse_time(backup['manifest']['started'])
    except (KeyError, TypeError, ValueError):
        return None


def undated(backups):
    """Evidence lines for the backups retention keeps because their
    manifest does not say when they started."""
    return ['%s: its manifest has no valid started time (%r; want ISO-8601 with offset such as '
            '2026-11-29T02:00:00+0000), so retention keeps it; fix the manifest or delete the backup by hand'
            % (b['path'], b['manifest'].get('started')) for b in backups if started(b) is None]


def select_expired(backups, keep_last, keep_days, now):
    """Backups that retention deletes: outside the newest ``keep_last`` AND
    older than ``keep_days`` (a rule set to 0 does not keep anything on its
    own), never the newest verified backup, never the newest backup, never
    one whose manifest does not say when it started (undated()).
    With both rules off nothing expires."""
    if not keep_last and not keep_days:
        return []
    keep = set(b['path'] for b in backups if started(b) is None)
    if keep_last:
        keep.update(b['path'] for b in backups[-keep_last:])
    if keep_days:
        limit = now - datetime.timedelta(days=keep_days)
        keep.update(b['path'] for b in backups if started(b) is not None and started(b) >= limit)
    if backups:
        keep.add(backups[-1]['path'])
    verified = [b for b in backups if (b['manifest'].get('verification') or {}).get('ok')]
    if verified:
        keep.add(verified[-1]['path'])
    return [b for b in backups if b['path'] not in keep]
