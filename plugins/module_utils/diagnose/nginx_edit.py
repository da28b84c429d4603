# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small edits of one nginx configuration file, made on its text so every
other byte (comments, layout) stays, and proven by parsing the result with
crossplane: the edited directives read as wanted and every other directive
is as it was, in the same place. An edit that cannot be proven is refused.

    edits = [Edit(location_chain, 'proxy_read_timeout', ['3600s'])]
    text = apply(text, config, edits)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import nginx_config
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError


class Edit(object):
    """Set directive ``name`` to ``args`` in the last location of ``chain``
    (replacing the location's own directive, else inserting one as its first
    line)."""

    def __init__(self, server, chain, name, args):
        self.server, self.chain, self.name, self.args = server, chain, name, list(args)

    @property
    def location(self):
        return nginx_config.location_name(self.chain[-1])

    def own(self):
        """The location's own directive ``name`` (the last one), or None."""
        found = [d for d in self.chain[-1].get('block') or [] if d['directive'] == self.name]
        return found[-1] if found else None

    def describe(self):
        return '%s %s in location %s' % (self.name, ' '.join(self.args), self.location)


def _quote(arg):
    return arg if re.match(r'^[^\s;{}"\'#\\]+$', arg) else '"%s"' % arg.replace('\\', '\\\\').replace('"', '\\"')


def _render(name, args):
    return '%s %s;' % (name, ' '.join(_quote(a) for a in args))


def _replace_line(lines, number, name, args):
    """The directive ``name`` that starts on line ``number`` rewritten in place."""
    line = lines[number - 1]
    pattern = re.compile(r'(?<![\w$])%s\s+[^;{}#]*;' % re.escape(name))
    found = pattern.search(line)
    if not found:
        raise ConfigError('cannot rewrite %s on line %d: the directive does not end on that line (%r); edit it by '
                          'hand' % (name, number, line.strip()))
    lines[number - 1] = line[:found.start()] + _render(name, args) + line[found.end():]


def _insert(lines, location, name, args):
    """A new line ``name args;`` as the first line of ``location``'s block."""
    number = location['line']
    for index in range(number - 1, len(lines)):
        text = lines[index]
        brace = text.find('{')
        if brace >= 0:
            break
    else:
        raise ConfigError('cannot find the { of location %s (line %d)' % (nginx_config.location_name(location), number))
    children = location.get('block') or []
    if children and children[0]['line'] > index + 1:
        child = lines[children[0]['line'] - 1]
        indent = child[:len(child) - len(child.lstrip())]
    else:
        own = lines[number - 1]
        indent = own[:len(own) - len(own.lstrip())] + '    '
    rest = text[brace + 1:]
    newline = '\n' if text.endswith('\n') else ''
    if rest.strip() and not rest.strip().startswith('#'):
        lines[index] = text[:brace + 1] + '\n' + indent + _render(name, args) + '\n' + indent + rest.lstrip()
    else:
        lines.insert(index + 1, indent + _render(name, args) + (newline or '\n'))


def _shape(tree, path=()):
    """[(ancestors, directive, args)] in order, line numbers left out."""
    found = []
    for node in tree:
        found.append((path, node['directive'], tuple(node['args'])))
        if 'block' in node:
            found.extend(_shape(node['block'], path + ((node['directive'], tuple(node['args'])),)))
    return found


def _key(edit):
    """(the locations down to the edited one, its name): _without() drops
    every directive of that name whose ancestors end with those locations."""
    return tuple(('location', tuple(loc['args'])) for loc in edit.chain), edit.name


def _without(shape, keys):
    return [(ancestors, name, args) for ancestors, name, args in shape
            if not any(name == key_name and ancestors[len(ancestors) - len(chain):] == chain
                       for chain, key_name in keys)]


def _bottom_up(pair):
    index, edit = pair
    own = edit.own()
    return -(own['line'] if own else edit.chain[-1]['line']), -index


def apply(text, config, edits, path):
    """``text`` (the file ``path`` of ``config``) with ``edits`` made; refuses
    an edit of a location in another file, and a result that does not parse
    or does not read back as asked."""
    for edit in edits:
        if edit.chain[-1]['file'] != path:
            raise ConfigError('location %s is in %s, not in %s: edit that file (it is included from %s)'
                              % (edit.location, edit.chain[-1]['file'], path, path))
    lines = text.splitlines(True)
    # Bottom up, so the line numbers of the edits still to make stay right; the
    # inserts into one location last first, so they read in the order given.
    for dummy, edit in sorted(enumerate(edits), key=_bottom_up):
        own = edit.own()
        if own is not None:
            _replace_line(lines, own['line'], edit.name, edit.args)
        else:
            _insert(lines, edit.chain[-1], edit.name, edit.args)
    result = ''.join(lines)
    main = path == config.main
    prove(nginx_config.parse_text(text, path, main), nginx_config.parse_text(result, path, main), edits, path)
    return result


def prove(old, new, edits, path):
    """Every edit reads back in ``new`` and nothing else changed."""
    keys = set(_key(edit) for edit in edits)
    before = _without(_shape(old.tree), keys)
    after = _without(_shape(new.tree), keys)
    if before != after:
        raise ConfigError('internal: editing %s would change more than %s; nothing was written, edit it by hand'
                          % (path, ', '.join(e.describe() for e in edits)))
    for edit in edits:
        for server, chain in new.locations():
            if [nginx_config.location_name(c) for c in chain] == [nginx_config.location_name(c) for c in edit.chain]:
                own = [d for d in chain[-1].get('block') or [] if d['directive'] == edit.name]
                if own and own[-1]['args'] == edit.args:
                    break
        else:
            raise ConfigError('internal: %s does not read back from the edited %s; nothing was written'
                              % (edit.describe(), path))
