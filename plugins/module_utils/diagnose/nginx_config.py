# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx configuration a frontend runs, read from ``nginx -T`` and parsed
with crossplane (a real nginx parser, never regexes): the dump is split at
its ``# configuration file X:`` headers, each file is parsed on its own
(``single``: nothing is read from this host) and includes are resolved
against the files of the dump, as nginx resolves them.

    config = parse_dump(text)
    for server, location in config.locations(): ...
    config.effective(location, 'proxy_read_timeout')   # (value, where) with nginx's inheritance
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import os
import re
import shutil
import tempfile
import traceback

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

try:
    import crossplane
    HAS_CROSSPLANE = True
    CROSSPLANE_IMPORT_ERROR = None
except ImportError:
    HAS_CROSSPLANE = False
    CROSSPLANE_IMPORT_ERROR = traceback.format_exc()

_HEADER = re.compile(r'^# configuration file (.+):$')
# nginx's time units (ngx_parse_time): a number per unit, largest first, no unit = seconds.
_UNITS = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800, 'M': 2592000, 'y': 31536000}
_TIME = re.compile(r'(\d+)(ms|s|m|h|d|w|M|y)?')
# Defaults nginx uses when a directive is not set anywhere above a location.
DEFAULTS = {'proxy_read_timeout': '60s', 'proxy_send_timeout': '60s'}
# Directives whose values a location inherits from server and http only when it sets none itself.
_ARRAY_DIRECTIVES = ('proxy_set_header',)


def require_crossplane():
    if not HAS_CROSSPLANE:
        raise ConfigError('the Python package crossplane (requirements.txt) is needed to parse the nginx '
                          'configuration: pip install crossplane==0.5.8 into the Python that runs the modules '
                          '(ansible_python_interpreter): %s' % CROSSPLANE_IMPORT_ERROR.strip().splitlines()[-1])


def parse_time(text):
    """Seconds of an nginx time (``90``, ``90s``, ``1m30s``, ``1h``, ``500ms``);
    None when it is not one."""
    text = (text or '').strip()
    if not text:
        return None
    total, pos = 0.0, 0
    for match in _TIME.finditer(text):
        if match.start() != pos:
            return None
        total += int(match.group(1)) * _UNITS[match.group(2) or 's']
        pos = match.end()
    return total if pos == len(text) else None


def split_dump(text):
    """[(path, content)] of ``nginx -T`` output, in its order: nginx writes
    each file after a ``# configuration file PATH:`` line and ends it with one
    line feed of its own. Lines before the first header (nginx's own ``syntax
    is ok`` lines when stderr was merged) are left out."""
    files, path, lines = [], None, []
    for line in text.splitlines(True):
        match = _HEADER.match(line.rstrip('\r\n'))
        if match:
            if path is not None:
                files.append((path, _content(lines)))
            path, lines = match.group(1), []
        elif path is not None:
            lines.append(line)
    if path is not None:
        files.append((path, _content(lines)))
    return files


def _content(lines):
    text = ''.join(lines)
    return text[:-1] if text.endswith('\n') else text


class NginxConfig(object):
    """The parsed configuration: ``files`` {path: text}, ``main`` (the first
    file), ``tree`` (the main file's directives, includes expanded: each
    directive a dict {directive, args, line, file, block?})."""

    def __init__(self, files, trees):
        self.files = files
        self.main = next(iter(files)) if files else None
        self.prefix = os.path.dirname(self.main) if self.main else '/etc/nginx'
        self.errors = []
        self.tree = self._expand(trees, self.main, set()) if self.main else []

    def _expand(self, trees, path, seen):
        seen = seen | {path}
        out = []
        for directive in trees.get(path, []):
            out.extend(self._node(trees, directive, path, seen))
        return out

    def _node(self, trees, directive, path, seen):
        if directive['directive'] == 'include' and directive['args']:
            pattern = directive['args'][0]
            if not os.path.isabs(pattern):
                pattern = os.path.join(self.prefix, pattern)
            included = []
            for name in sorted(p for p in self.files if fnmatch.fnmatchcase(p, pattern) and p not in seen):
                included.extend(self._expand(trees, name, seen))
            return included
        node = dict(directive=directive['directive'], args=list(directive['args']), line=directive['line'], file=path)
        if 'block' in directive:
            node['block'] = []
            for child in directive['block']:
                node['block'].extend(self._node(trees, child, path, seen))
        return [node]

    # ---------------------------------------------------------------- queries

    def servers(self):
        """Every server block of the http context (at the top of a file
        parsed alone that nginx includes into http: parse_text(main=False))."""
        return [server for http in _children(self.tree, 'http') for server in _children(http['block'], 'server')] + \
            _children(self.tree, 'server')

    def http(self):
        found = _children(self.tree, 'http')
        return found[0] if found else None

    def locations(self):
        """[(server, [enclosing locations..., location])] for every location,
        nested ones included (the chain says what it inherits from)."""
        found = []
        for server in self.servers():
            found.extend((server, chain) for chain in _location_chains(server['block'], []))
        if _children(self.tree, 'location'):  # a file parsed alone that nginx includes into a server
            server = dict(directive='server', args=[], line=None, file=self.main, block=self.tree)
            found.extend((server, chain) for chain in _location_chains(self.tree, []))
        return found

    def effective(self, server, chain, name):
        """(args, where) of directive ``name`` for the last location of
        ``chain``, as nginx inherits it: the innermost level that sets it
        (location, enclosing locations, server, http), else nginx's default
        (where ``default``), else (None, None)."""
        levels = [(loc, 'location %s' % location_name(loc)) for loc in reversed(chain)]
        levels += [(server, 'server'), (self.http(), 'http')]
        for node, where in levels:
            if node is None:
                continue
            found = [d for d in node.get('block') or [] if d['directive'] == name]
            if found:
                return (found if name in _ARRAY_DIRECTIVES else found[-1]['args']), dict(
                    level=where, file=found[-1]['file'], line=found[-1]['line'])
        if name in DEFAULTS:
            return [DEFAULTS[name]], dict(level='default', file=None, line=None)
        return None, None

    def server_root(self, server, chain=None):
        """The ``root`` a location serves from (its own, else the server's, else http's)."""
        args, dummy = self.effective(server, chain or [], 'root')
        return args[0] if args else '/usr/share/nginx/html'


def _children(block, name):
    return [d for d in block or [] if d['directive'] == name]


def _location_chains(block, above):
    chains = []
    for loc in _children(block, 'location'):
        chain = above + [loc]
        chains.append(chain)
        chains.extend(_location_chains(loc.get('block'), chain))
    return chains


def location_name(location):
    return ' '.join(location['args'])


def upgrades_websockets(config, server, chain):
    """Whether a location passes WebSocket upgrades on: it proxies
    (proxy_pass) and its effective proxy_set_header sets ``Upgrade`` or a
    ``Connection`` naming upgrade (``upgrade``, ``$connection_upgrade``)."""
    if not _children(chain[-1].get('block'), 'proxy_pass'):
        return False
    headers, dummy = config.effective(server, chain, 'proxy_set_header')
    for directive in headers or []:
        args = directive['args']
        if len(args) >= 2 and (args[0].lower() == 'upgrade' or
                               (args[0].lower() == 'connection' and 'upgrade' in args[1].lower())):
            return True
    return False


def parse_dump(text, main=True):
    """NginxConfig of ``nginx -T`` output; ConfigError when there is no file
    in it or crossplane refuses one (with the file and line). ``main``: the
    first file is nginx's main file (its contexts are checked); False for a
    file that nginx includes from elsewhere."""
    require_crossplane()
    files = split_dump(text)
    if not files:
        raise ConfigError('the nginx -T output holds no "# configuration file" section: %s'
                          % (text.strip().splitlines() or ['(empty)'])[0][:200])
    ordered = dict(files)
    tmp = tempfile.mkdtemp(prefix='quickbite-nginx-')
    try:
        trees = {}
        for path, content in files:
            local = os.path.join(tmp, path.lstrip('/'))
            os.makedirs(os.path.dirname(local), 0o700, exist_ok=True)
            with open(local, 'w') as handle:
                handle.write(content)
            # The main file in full context; an included file alone (its context is where it is included).
            parsed = crossplane.parse(local, single=True, catch_errors=True, check_ctx=main and path == files[0][0],
                                      check_args=True)
            if parsed['errors']:
                error = parsed['errors'][0]
                raise ConfigError('cannot parse %s of the nginx configuration: %s' % (
                    path, error['error'].replace(tmp, '')), file=path, line=error.get('line'))
            trees[path] = parsed['config'][0]['parsed']
        return NginxConfig(ordered, trees)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def parse_text(text, path='/etc/nginx/nginx.conf', main=True):
    """NginxConfig of one file's text alone, its includes left out (an edit
    to be checked before it is written); ``main`` as for parse_dump()."""
    return parse_dump('# configuration file %s:\n%s\n' % (path, text), main)
