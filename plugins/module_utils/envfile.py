# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and rewrite Compose env files (``.env.prod``) exactly as Compose reads
them (_dotenv, a port of Compose's own parser).

A rewrite changes the bytes of one value only: every other byte (line
endings, comments, quotes, other lines) stays; it is written through a
symlink to its target, keeping the target's mode and owner. What cannot be
rewritten faithfully is refused before anything changes, naming the key, the
line and what to do.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import stat

from ansible_collections.quickbite.ops.plugins.module_utils import _dotenv, _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

_BOM = u'\ufeff'
_PLAIN = re.compile(r'^[A-Za-z0-9_./:@%+,=^~-]*$')
_UNWRITABLE = ('\n', '\r', '\x00')


def decode(data, path):
    """(bom, text) of the bytes of ``path``; a file that is not UTF-8 is
    refused with its first bad byte's line: Compose would pass the bytes on
    undecoded and the backend would read something else than this procedure."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b'\n') + 1
        column = exc.start - (data.rfind(b'\n', 0, exc.start) + 1) + 1
        raise ConfigError('refusing to read env file %s: line %d is not UTF-8 (byte 0x%02x at column %d); convert the '
                          'file to UTF-8 (iconv -f latin1 -t utf-8, or re-save it as UTF-8 in an editor) or remove '
                          'that byte, then run again; nothing was changed' % (path, line, data[exc.start], column))
    if text.startswith(_BOM):
        return _BOM, text[len(_BOM):]
    return '', text


def _statements(text, path):
    try:
        return _dotenv.parse(text)
    except _dotenv.DotenvError as exc:
        raise ConfigError('refusing to use env file %s: Compose cannot read it either (line %d: %s); fix that line '
                          '(docker compose --env-file %s config shows the same error), then run again; nothing was '
                          'changed' % (path, exc.line, exc.reason, path))


def parse(text, path='the env file'):
    """{key: value}; the last statement of a key wins, as in Compose."""
    return dict((s.key, s.value) for s in _statements(text, path) if s.value is not None)


def _load(path):
    with open(path, 'rb') as handle:
        bom, text = decode(handle.read(), path)
    return bom, text


def read(path):
    return parse(_load(path)[1], path)


def _last(statements, key):
    found = [s for s in statements if s.key == key]
    return found[-1] if found else None


def _ambiguity(statement):
    """Why Compose's value of this statement cannot be known or rewritten here."""
    if statement.inherited:
        return ("has no '=': Compose takes the value from the environment it runs in, which this procedure cannot "
                "see; write %s=<value> on that line and run again" % statement.key)
    if statement.interpolated:
        return ('uses $VAR or ${VAR} interpolation, so its value depends on other variables and on the environment '
                'Compose runs in; write the value literally (in single quotes) and run again')
    trailing = statement.trailing.strip('\t\v\f\r \x85\xa0')
    if trailing and not trailing.startswith('#'):
        return ('has text after the closing quote (%r) that Compose reads as another variable; remove it or make it '
                'a comment (" # ..."), then run again' % trailing[:20])
    return None


def _renderings(value, quote):
    """How ``value`` can be written, the style the line had first."""
    single = "'%s'" % value
    double = '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"').replace('$', '\\$')
    plain = [value] if _PLAIN.match(value) else []
    order = {'': plain + [single, double], "'": [single] + plain + [double], '"': [double] + plain + [single]}
    return order[quote]


def _line_ending(text):
    crlf = text.count('\r\n')
    return '\r\n' if crlf and crlf * 2 >= text.count('\n') else '\n'


def check_value(key, value, path='the env file'):
    if value is None or any(c in value for c in _UNWRITABLE):
        raise ConfigError('refusing to write %s to %s: the value contains a line break or a NUL character, which '
                          'one line of an env file cannot hold; choose a value without them; nothing was changed'
                          % (key, path))


def set_key(text, key, value, path='the env file'):
    """``text`` with ``key`` set to ``value``: only the value's bytes of the
    last statement of ``key`` (the one Compose uses) change; a missing key
    is appended. Read back with Compose's rules before it is returned: the
    key must read ``value`` and every other key what it read before."""
    check_value(key, value, path)
    statements = _statements(text, path)
    before = parse(text, path)
    target = _last(statements, key)
    if target is not None:
        problem = _ambiguity(target)
        if problem:
            raise ConfigError('refusing to rotate %s: line %d of %s %s; nothing was changed'
                              % (key, target.line, path, problem))
    for rendered in _renderings(value, target.quote if target is not None else ''):
        if target is None:
            ending = _line_ending(text)
            head = text if not text or text.endswith('\n') else text + ending
            candidate = '%s%s=%s%s' % (head, key, rendered, ending)
        else:
            candidate = text[:target.value_start] + rendered + text[target.value_end:]
        try:
            after = parse(candidate, path)
        except ConfigError:
            continue
        if after.pop(key, None) == value and after == dict((k, v) for k, v in before.items() if k != key):
            return candidate
    where = 'line %d' % target.line if target is not None else 'a new line'
    raise ConfigError('refusing to write %s to %s: written on %s, Compose would read another value for it or for '
                      'another key (a later line refers to it with ${%s}?); write that line by hand or remove the '
                      'reference, then run again; nothing was changed' % (key, path, where, key))


def check_set(path, key, value):
    """Raise ConfigError when set_value(path, key, value) would be refused."""
    set_key(_load(path)[1], key, value, path)


def set_value(path, key, value):
    """Rewrite the value of ``key`` in the file ``path`` (through a symlink, to
    its target); returns the path written."""
    target = os.path.realpath(path)
    bom, text = _load(target)
    _replace(target, (bom + set_key(text, key, value, path)).encode('utf-8'))
    return target


def snapshot(path, keys):
    """{key: the bytes of its statement (as text), or None when absent}: what
    restore() puts back."""
    text = _load(path)[1]
    statements = _statements(text, path)
    saved = {}
    for key in keys:
        statement = _last(statements, key)
        saved[key] = text[statement.start:statement.end] if statement is not None else None
    return saved


def restore_keys(text, saved, path='the env file'):
    """``text`` with each key's statement as ``saved`` held it: the original
    bytes; a key that was absent is removed again."""
    for key, raw in sorted(saved.items()):
        statement = _last(_statements(text, path), key)
        if statement is None:
            if raw is not None:
                ending = _line_ending(text)
                text = (text if not text or text.endswith('\n') else text + ending) + raw + ending
            continue
        if raw is None:
            line_start = text.rfind('\n', 0, statement.start) + 1
            text = text[:line_start] + text[statement.end + 1:]
        else:
            text = text[:statement.start] + raw + text[statement.end:]
    return text


def restore(path, saved):
    target = os.path.realpath(path)
    bom, text = _load(target)
    restored = restore_keys(text, saved, path)
    if restored != text:
        _replace(target, (bom + restored).encode('utf-8'))


def _replace(path, data):
    """Replace the regular file ``path`` by ``data`` atomically (_safefs: a
    new file beside it, renamed over it), keeping its mode and owner. The
    directory is the deployment's own, used whoever owns it."""
    st = os.stat(path)
    with _safefs.SafeDir(os.path.dirname(path), 'the env file directory', create=False, check=False) as directory:
        directory.write_atomic(os.path.basename(path), data, stat.S_IMODE(st.st_mode), owner=(st.st_uid, st.st_gid))
