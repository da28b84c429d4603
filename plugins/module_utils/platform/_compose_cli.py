# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin client over the ``docker compose`` v2 CLI: builds argument lists
(never shell strings), runs them through the module and decodes JSON output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import re

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError, QuickbiteError

MIN_COMPOSE_VERSION = (2, 20, 0)
# Where the docker CLI looks for plugins after its config's cliPluginsExtraDirs
# and <DOCKER_CONFIG>/cli-plugins (docker/cli, pluginmanager).
SYSTEM_PLUGIN_DIRS = ('/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins',
                      '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins')


def parse_json_stream(text):
    """``compose ps --format json`` prints one object per line since 2.21 and
    a JSON array before; accept both."""
    text = text.strip()
    if not text:
        return []
    if text.startswith('['):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_version(text):
    match = re.search(r'(\d+)\.(\d+)\.(\d+)', text or '')
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


def _identity(path):
    found = os.stat(path)
    return [os.path.realpath(path), found.st_ino, found.st_size, found.st_mtime_ns]


def binaries_key(docker, environ=None):
    """Identity (path, inode, size, mtime) of the docker CLI and of every
    compose plugin where the CLI looks for one: a version check made for this
    key holds until one of them changes. None when no plugin is found there."""
    env = os.environ if environ is None else environ
    config_dir = env.get('DOCKER_CONFIG') or os.path.join(env.get('HOME') or os.path.expanduser('~'), '.docker')
    dirs = [os.path.join(config_dir, 'cli-plugins')]
    try:
        with open(os.path.join(config_dir, 'config.json')) as handle:
            dirs = list(json.load(handle).get('cliPluginsExtraDirs') or []) + dirs
    except (IOError, OSError, ValueError, AttributeError):
        pass
    plugins = []
    for directory in dirs + list(SYSTEM_PLUGIN_DIRS):
        try:
            plugins.append(_identity(os.path.join(directory, 'docker-compose')))
        except OSError:
            continue
    try:
        cli = _identity(docker)
    except OSError:
        return None
    if not plugins:
        return None
    return hashlib.sha256(json.dumps([cli] + plugins).encode('utf-8')).hexdigest()


# Keys that bring in other files or the environment: a compose file using any
# of them does not decide its service list by its own bytes.
_OUTSIDE_INPUTS = re.compile(r'^\s*-?\s*(include|extends|profiles)\s*:', re.MULTILINE)


class ComposeCLI(object):

    def __init__(self, module, project_dir, compose_files, env_file, project_name=None):
        self.module = module
        self.project_dir = project_dir
        self.files = [f if os.path.isabs(f) else os.path.join(project_dir, f) for f in compose_files]
        self.env_file = env_file if os.path.isabs(env_file) else os.path.join(project_dir, env_file)
        self.project_name = project_name
        # Written by rollback (image pins); used whenever it exists.
        self.extra_files = []
        self.docker = module.get_bin_path('docker', required=False)
        self._checked = False
        # Where answers that only change with the binaries or the compose files
        # are remembered (ComposeAdapter sets it); None: ask every run.
        self.cache_dir = None

    def _remembered(self, name, key, compute):
        """compute(), or its earlier answer for the same key, kept in
        <cache_dir>/<name> (never written in check mode). Failures are not kept."""
        path = os.path.join(self.cache_dir, name) if self.cache_dir and key else None
        if path:
            try:
                with _safefs.open_nofollow(path, binary=False) as handle:
                    cached = json.load(handle)
                if cached.get('key') == key:
                    return cached['value']
            except (IOError, OSError, ValueError, AttributeError, KeyError):
                pass
        value = compute()
        if path and not getattr(self.module, 'check_mode', False):
            try:  # the state directory's checks and O_NOFOLLOW, as every file the collection writes
                _safefs.write_atomic(path, json.dumps(dict(key=key, value=value)) + '\n',
                                     'quickbite_compose_project_dir (its .quickbite-ops directory)')
            except (IOError, OSError, QuickbiteError):
                pass  # only the next run's speed depends on it
        return value

    def check_local(self):
        """Cheap checks on the host, before any command runs."""
        if not self.docker:
            raise PlatformError('docker CLI not found on the managed host; install Docker Engine '
                                'with the compose v2 plugin')
        if not os.path.isdir(self.project_dir):
            raise ConfigError('compose project directory %s does not exist; set '
                              'quickbite_compose_project_dir' % self.project_dir)
        for path in self.files:
            if not os.path.isfile(path):
                raise ConfigError('compose file %s not found; set quickbite_compose_files' % path)

    @property
    def checked(self):
        """Whether preflight() has passed in this run."""
        return self._checked

    def preflight(self):
        if self._checked:
            return
        self.check_local()
        # The check starts the compose CLI (~0.2 s, before every first change):
        # a pass is remembered for these very binaries.
        version = self._remembered('compose-version.json', self.docker and binaries_key(self.docker), self._version)
        if (parse_version(version) or ()) < MIN_COMPOSE_VERSION:  # an edited cache file
            version = self._version()
        self.version = version
        self._checked = True

    def _version(self):
        rc, out, err = self.module.run_command([self.docker, 'compose', 'version', '--short'])
        version = parse_version(out)
        if rc != 0 or version is None:
            raise PlatformError('docker compose v2 is not available: %s' % (err or out).strip())
        if version < MIN_COMPOSE_VERSION:
            raise PlatformError('docker compose %s is too old; %s or newer is required'
                                % (out.strip(), '.'.join(map(str, MIN_COMPOSE_VERSION))))
        return out.strip()

    def base_argv(self):
        argv = [self.docker, 'compose', '--project-directory', self.project_dir]
        for path in self.files + [p for p in self.extra_files if os.path.exists(p)]:
            argv += ['-f', path]
        if os.path.exists(self.env_file):
            argv += ['--env-file', self.env_file]
        if self.project_name:
            argv += ['-p', self.project_name]
        return argv

    def run(self, args, check=True, preflight=True):
        if preflight:
            self.preflight()
        argv = self.base_argv() + list(args)
        rc, out, err = self.module.run_command(argv, cwd=self.project_dir)
        if check and rc != 0:
            raise PlatformError('docker compose %s failed (rc=%d): %s'
                                % (' '.join(args), rc, (err or out).strip()[-2000:]))
        return rc, out, err

    def docker_run(self, args, check=True):
        rc, out, err = self.module.run_command([self.docker] + list(args))
        if check and rc != 0:
            raise PlatformError('docker %s failed (rc=%d): %s' % (args[0], rc, (err or out).strip()))
        return rc, out, err

    def ps(self, preflight=True):
        return parse_json_stream(self.run(['ps', '--all', '--format', 'json'], preflight=preflight)[1])

    def services(self, preflight=True):
        """``config --services``; remembered for the same binaries and compose
        files when those files alone decide it (service names are never
        interpolated; includes, extends and profiles bring in other inputs)."""
        def ask():
            return [s for s in self.run(['config', '--services'], preflight=preflight)[1].splitlines() if s.strip()]
        return self._remembered('compose-services.json', self._files_key(), ask)

    def read_files(self):
        """[(path, bytes)] of the compose files Compose reads (ours included),
        or None when one cannot be read."""
        contents = []
        for path in self.files + [p for p in self.extra_files if os.path.exists(p)]:
            try:
                with open(path, 'rb') as handle:
                    contents.append((path, handle.read()))
            except (IOError, OSError):
                return None
        return contents

    def files_use(self, pattern, contents=None):
        """Whether a compose file matches ``pattern`` (True when one is
        unreadable); ``contents``: read_files() already read."""
        contents = self.read_files() if contents is None else contents
        return contents is None or any(pattern.search(c.decode('utf-8', 'replace')) for dummy, c in contents)

    def _files_key(self):
        binaries = self.docker and binaries_key(self.docker)
        contents = self.read_files() if binaries else None
        if contents is None or self.files_use(_OUTSIDE_INPUTS, contents):
            return None
        digest = hashlib.sha256(binaries.encode('ascii'))
        for path, content in contents:
            digest.update(('\0%s\0%d\0' % (path, len(content))).encode('utf-8'))
            digest.update(content)
        return digest.hexdigest()

    # Only the fields state needs: a full inspect carries Config.Env, secrets included.
    INSPECT_FORMAT = ('{"Id":{{json .Id}},"Name":{{json .Name}},"RestartCount":{{json .RestartCount}},'
                      '"State":{{json .State}},"Image":{{json .Image}},"Config":{"Image":{{json .Config.Image}}}}')

    def inspect(self, ids):
        if not ids:
            return []
        # A container removed between ps and inspect (a replacement in progress)
        # makes inspect exit 1 while still printing the others.
        rc, out, err = self.docker_run(['inspect', '--format', self.INSPECT_FORMAT] + list(ids), check=False)
        if rc != 0 and not out.strip():
            raise PlatformError('docker inspect failed (rc=%d): %s' % (rc, err.strip()))
        return parse_json_stream(out)
