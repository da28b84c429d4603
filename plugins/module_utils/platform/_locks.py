# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-target lock and small persistent state for procedures that must
survive being killed (secret rotation, restore).

One lock per target: the Compose project (``<project_dir>/.quickbite-ops/target.lock``,
an flock the kernel releases when the holding run dies) or the Kubernetes
namespace (ConfigMap ``quickbite-ops-lock``, which expires after ``ttl``).
Every procedure that changes the target takes it; a second one is refused
with the holder named. It is re-entrant within one process, so a procedure
that calls another (a restart inside a rotation) does not wait on itself.
State: on Compose, files under ``.quickbite-ops/`` (0600, written through
_safefs); on Kubernetes, a Secret in the namespace."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import errno
import fcntl
import json
import os
import socket
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import StateStore

STATE_SECRET = 'quickbite-ops-state'
TARGET_LOCK = 'target'
CONFIGMAP_LOCK = 'quickbite-ops-lock'
STATE_DIR_VAR = 'quickbite_compose_project_dir'

# key -> [lock, depth, pid]: locks this process holds (re-entrancy).
_HELD = {}


class LockedError(PlatformError):
    """Another run holds the lock."""


def _now(when=None):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))


def holder_record(procedure):
    return dict(procedure=procedure, pid=os.getpid(), host=socket.gethostname(), since=_now())


def describe_holder(holder):
    if not holder:
        return 'a run that left no record'
    return '%s (pid %s on %s, since %s)' % (
        holder.get('procedure') or 'an unnamed procedure', holder.get('pid', '?'), holder.get('host', '?'),
        holder.get('since', '?'))


def _alive(holder):
    """False only when the holder ran on this host and its pid is gone."""
    if not holder or holder.get('host') != socket.gethostname():
        return True
    try:
        os.kill(int(holder.get('pid')), 0)
    except (TypeError, ValueError):
        return True
    except OSError as exc:
        return exc.errno != errno.ESRCH
    return True


class _Reentrant(object):
    """Taken once per process and key; nested ``with`` blocks only count."""

    key = None

    def __enter__(self):
        held = _HELD.get(self.key)
        if held and held[2] == os.getpid():
            held[1] += 1
            return self
        self.acquire()
        _HELD[self.key] = [self, 1, os.getpid()]
        return self

    def __exit__(self, *exc):
        held = _HELD.get(self.key)
        if held and held[2] == os.getpid():
            held[1] -= 1
            if held[1] > 0:
                return False
            del _HELD[self.key]
            held[0].release()
        return False

    def acquire(self):
        raise NotImplementedError

    def release(self):
        raise NotImplementedError


class _NoLock(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def target_lock(adapter, procedure, check_mode=False):
    """The lock a procedure that changes the target holds while it runs (none
    in check mode, which changes nothing). ``adapter`` may be a LazyAdapter."""
    if check_mode:
        return _NoLock()
    adapter = adapter.get() if hasattr(adapter, 'get') and not hasattr(adapter, 'lock') else adapter
    return adapter.lock(procedure)


class FileLock(_Reentrant):
    """flock on ``<dir>/<name>.lock`` (O_NOFOLLOW, in a checked directory),
    released by the kernel when the holder dies. The file records the holder
    for a refused run's message. ``what`` names the locked thing in messages,
    ``var`` the variable that sets the directory."""

    def __init__(self, directory, name, procedure='a procedure', wait=10, what=None, var=STATE_DIR_VAR):
        self.directory = _safefs.SafeDir(directory, var)
        self.path = os.path.join(os.path.abspath(directory), '%s.lock' % name)
        self.name, self.procedure, self.var = name, procedure, var
        self.what = what or 'the %s lock' % name
        self.key = ('file', self.path)
        self.fd = None
        # A killed holder's lock goes with its last process, which may take a moment.
        self.wait = wait

    def _holder(self):
        try:
            return json.loads(os.pread(self.fd, 4096, 0).decode('utf-8'))
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def acquire(self):
        with self.directory:
            self.fd = self.directory.open_rw(os.path.basename(self.path))
        deadline = time.time() + self.wait
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                holder = self._holder()
                # A live (or unrecorded) holder: refuse now. A dead one: the kernel frees its lock soon.
                if time.time() >= deadline or _alive(holder):
                    os.close(self.fd)
                    self.fd = None
                    raise LockedError(
                        'refusing to %s: another run holds %s: %s; nothing was changed. Wait for it to finish and '
                        'run again (if that run died, the kernel released its lock with it: just run again; '
                        'lock file %s)' % (self.procedure, self.what, describe_holder(holder), self.path),
                        holder=holder)
                time.sleep(0.1)
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(holder_record(self.procedure)).encode('utf-8'), 0)

    def release(self):
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None


class FileStore(StateStore):
    """Compose: ``<dir>/<name>.pending.json`` (0600, written atomically
    through _safefs, read without following a symlink)."""

    def __init__(self, directory):
        self.dir = directory

    def _name(self, name):
        return '%s.pending.json' % name

    def load(self, name):
        try:
            with _safefs.SafeDir(self.dir, STATE_DIR_VAR, create=False) as directory:
                return json.loads(directory.read_bytes(self._name(name)).decode('utf-8'))
        except (IOError, OSError, ValueError):
            return None

    def save(self, name, data):
        with _safefs.SafeDir(self.dir, STATE_DIR_VAR) as directory:
            directory.write_atomic(self._name(name), json.dumps(data), 0o600)

    def delete(self, name):
        with _safefs.SafeDir(self.dir, STATE_DIR_VAR) as directory:
            directory.unlink(self._name(name))
            directory.fsync()


class ConfigMapLock(_Reentrant):
    """ConfigMap ``quickbite-ops-lock``: one per namespace, present while a
    run holds it; creation is atomic on the API server (409 when it exists).
    Older than ``ttl`` seconds counts as abandoned by a killed run and is taken
    over (delete with the seen resourceVersion as precondition, then create)."""

    def __init__(self, client, namespace, procedure='a procedure', ttl=3600):
        self.client, self.namespace, self.ttl, self.procedure = client, namespace, ttl, procedure
        self.name = CONFIGMAP_LOCK
        self.key = ('configmap', getattr(client, 'host', None), namespace)

    def _create(self):
        holder = holder_record(self.procedure)
        holder.update(pid=str(holder['pid']), since_epoch=str(int(time.time())), ttl=str(self.ttl))
        body = {'metadata': {'name': self.name, 'labels': {'app.kubernetes.io/managed-by': 'quickbite.ops'}},
                'data': holder}
        return self.client.call('taking lock %s' % self.name, self.client.core.create_namespaced_config_map,
                                self.namespace, body)

    def acquire(self):
        try:
            self._create()
            return
        except PlatformError as exc:
            if ': 409 ' not in exc.msg:
                raise
        held = self.client.call('reading lock %s' % self.name, self.client.core.read_namespaced_config_map,
                                self.name, self.namespace)
        data = held.data or {}
        raw = data.get('since_epoch') or data.get('since') or '0'
        since = int(raw) if str(raw).isdigit() else 0
        ttl = int(data.get('ttl') or self.ttl)
        if time.time() - since < ttl:
            raise LockedError(
                'refusing to %s: another run holds lock %s in namespace %s: %s; nothing was changed. Wait for it to '
                'finish and run again; if that run died, its lock expires at %s (ttl %d s), or delete ConfigMap %s '
                'once that run is known to be dead' % (self.procedure, self.name, self.namespace,
                                                       describe_holder(data), _now(since + ttl), ttl, self.name),
                holder=data)
        options = {'preconditions': {'resourceVersion': held.metadata.resource_version, 'uid': held.metadata.uid}}
        try:
            self.client.call('taking over expired lock %s' % self.name, self.client.core.delete_namespaced_config_map,
                             self.name, self.namespace, body=options)
        except NotFoundError:
            pass
        self._create()

    def release(self):
        try:
            self.client.call('releasing lock %s' % self.name, self.client.core.delete_namespaced_config_map,
                             self.name, self.namespace)
        except NotFoundError:
            pass


class SecretStore(StateStore):
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
