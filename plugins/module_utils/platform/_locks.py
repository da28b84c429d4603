# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Locks and small persistent state for procedures that must survive being
killed (secret rotation): on Compose, files under ``.quickbite-ops/`` (0600,
beside the env file they protect); on Kubernetes, a Secret and a ConfigMap in
the namespace."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import fcntl
import json
import os
import socket
import time

from ansible_collections.quickbite.ops.plugins.module_utils import envfile
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError, NotFoundError

STATE_SECRET = 'quickbite-ops-state'


class LockedError(PlatformError):
    """Another run holds the lock."""


class FileLock(object):
    """flock on ``<dir>/<name>.lock``: released by the kernel if the run dies."""

    def __init__(self, directory, name, wait=10):
        self.path = os.path.join(directory, '%s.lock' % name)
        self.name = name
        self.handle = None
        # A killed holder's lock goes with its last process, which may take a moment.
        self.wait = wait

    def __enter__(self):
        if not os.path.isdir(os.path.dirname(self.path)):
            os.makedirs(os.path.dirname(self.path), 0o700)
        self.handle = open(self.path, 'a+')
        deadline = time.time() + self.wait
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except (IOError, OSError):
                if time.time() >= deadline:
                    self.handle.close()
                    raise LockedError('another run holds the %s lock (%s); wait for it to finish'
                                      % (self.name, self.path))
                time.sleep(0.2)

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
        return False


class FileStore(object):
    def __init__(self, directory):
        self.dir = directory

    def _path(self, name):
        return os.path.join(self.dir, '%s.pending.json' % name)

    def load(self, name):
        try:
            with open(self._path(name)) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def save(self, name, data):
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir, 0o700)
        envfile.write_atomic(self._path(name), json.dumps(data))
        os.chmod(self._path(name), 0o600)

    def delete(self, name):
        if os.path.exists(self._path(name)):
            os.unlink(self._path(name))


class ConfigMapLock(object):
    """A ConfigMap that exists while the lock is held; creation is atomic on
    the API server (409 when it exists). Older than ``ttl`` seconds counts as
    abandoned by a killed run and is taken over."""

    def __init__(self, client, namespace, name, ttl):
        self.client, self.namespace, self.ttl = client, namespace, ttl
        self.name = 'quickbite-ops-lock-%s' % name.lower().replace('_', '-')

    def _create(self):
        body = {'metadata': {'name': self.name, 'labels': {'app.kubernetes.io/managed-by': 'quickbite.ops'}},
                'data': {'holder': socket.gethostname(), 'since': str(int(time.time()))}}
        return self.client.call('taking lock %s' % self.name, self.client.core.create_namespaced_config_map,
                                self.namespace, body)

    def __enter__(self):
        try:
            self._create()
        except PlatformError as exc:
            if ': 409 ' not in exc.msg:
                raise
            held = self.client.call('reading lock %s' % self.name, self.client.core.read_namespaced_config_map,
                                    self.name, self.namespace)
            since = int((held.data or {}).get('since', '0'))
            if time.time() - since < self.ttl:
                raise LockedError('another run holds lock %s in namespace %s (since %s, by %s); wait for it, or '
                                  'delete the ConfigMap if that run is known to be dead'
                                  % (self.name, self.namespace, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(since)),
                                     (held.data or {}).get('holder')))
            self.__exit__()
            self._create()
        return self

    def __exit__(self, *exc):
        try:
            self.client.call('releasing lock %s' % self.name, self.client.core.delete_namespaced_config_map,
                             self.name, self.namespace)
        except NotFoundError:
            pass
        return False


class SecretStore(object):
    """Pending rotations as keys of Secret quickbite-ops-state (same protection
    as the application Secret)."""

    def __init__(self, client, namespace):
        self.client, self.namespace = client, namespace

    def _read(self):
        try:
            return self.client.call('reading secret %s' % STATE_SECRET, self.client.core.read_namespaced_secret,
                                    STATE_SECRET, self.namespace)
        except NotFoundError:
            return None

    def load(self, name):
        secret = self._read()
        value = ((secret.data or {}) if secret else {}).get(name.lower().replace('_', '-'))
        return json.loads(base64.b64decode(value).decode('utf-8')) if value else None

    def save(self, name, data):
        key = name.lower().replace('_', '-')
        encoded = base64.b64encode(json.dumps(data).encode('utf-8')).decode('ascii')
        if self._read() is None:
            body = {'metadata': {'name': STATE_SECRET, 'labels': {'app.kubernetes.io/managed-by': 'quickbite.ops'}},
                    'type': 'Opaque', 'data': {key: encoded}}
            self.client.call('creating secret %s' % STATE_SECRET, self.client.core.create_namespaced_secret,
                             self.namespace, body)
        else:
            self.client.call('saving %s in secret %s' % (key, STATE_SECRET), self.client.core.patch_namespaced_secret,
                             STATE_SECRET, self.namespace, {'data': {key: encoded}})

    def delete(self, name):
        key = name.lower().replace('_', '-')
        if self._read() is not None:
            # JSON merge patch: null removes the key.
            self.client.call('clearing %s in secret %s' % (key, STATE_SECRET), self.client.core.patch_namespaced_secret,
                             STATE_SECRET, self.namespace, {'data': {key: None}})
