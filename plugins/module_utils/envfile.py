# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and rewrite Compose env files (``.env.prod``) the way Compose reads them.

Rewriting touches one line only: every other line, comment and their order
stay byte for byte, and the file keeps its mode and owner.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import tempfile

_LINE = re.compile(r'^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$')


def _unquote(raw):
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ('"', "'"):
        inner = value[1:-1]
        if value[0] == '"':
            inner = inner.replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
        return inner
    # Compose treats " #" after an unquoted value as the start of a comment.
    match = re.search(r'\s+#', value)
    if match:
        value = value[:match.start()]
    return value.strip()


def parse(text):
    """Return {key: value}; the last assignment of a key wins, as in Compose."""
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        match = _LINE.match(line)
        if match:
            values[match.group(1)] = _unquote(match.group(2))
    return values


def read(path):
    with open(path, 'r') as handle:
        return parse(handle.read())


def set_key(text, key, value):
    """Return ``text`` with ``key`` set to ``value``.

    Only the last assignment of ``key`` (the one Compose uses) is rewritten; a
    missing key is appended. Values with characters Compose would interpret
    are single-quoted.
    """
    if '\n' in value or "'" in value:
        raise ValueError('value for %s contains a newline or a single quote' % key)
    rendered = value
    if re.search(r'[\s#"$\\`]', value):
        rendered = "'%s'" % value
    lines = text.splitlines(True)
    target = None
    for index, line in enumerate(lines):
        match = _LINE.match(line.rstrip('\r\n'))
        if match and match.group(1) == key and not line.lstrip().startswith('#'):
            target = index
    if target is None:
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += '\n'
        lines.append('%s=%s\n' % (key, rendered))
    else:
        line = lines[target]
        ending = line[len(line.rstrip('\r\n')):]
        prefix = line[:line.index('=') + 1]
        lines[target] = prefix + rendered + ending
    return ''.join(lines)


def write_atomic(path, text):
    """Replace ``path`` atomically, keeping its mode (0600 when new) and owner."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        stat = os.stat(path)
        mode, uid, gid = stat.st_mode & 0o7777, stat.st_uid, stat.st_gid
    except OSError:
        mode, uid, gid = 0o600, None, None
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        os.fchmod(fd, mode)
        if uid is not None:
            os.fchown(fd, uid, gid)
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
