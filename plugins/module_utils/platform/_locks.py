# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-target lock and small persistent state for procedures that must
survive being killed (secret rotation, restore).

One lock per target: the Compose project (``<project_dir>/.quickbite-ops/target.lock``,
an flock the kernel releases when the holding run dies) or the Kubernetes
namespace (Lease ``quickbite-ops-lock``, renewed while held, expiring when
its holder stops renewing).
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
import threading
import time
import uuid

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils._time import epoch
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError, NotFoundError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import StateStore

STATE_SECRET = 'quickbite-ops-state'
TARGET_LOCK = 'target'
LEASE_LOCK = 'quickbite-ops-lock'
HOLDER_ANNOTATION = 'quickbite.ops/holder'
# A held Lease is renewed every third of this; a killed holder's expires this long after its last renewal.
LEASE_SECONDS = 60
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


class LeaseLock(_Reentrant):
    """coordination.k8s.io/v1 Lease ``quickbite-ops-lock``: one per namespace.
    ``holderIdentity`` names this run (host, pid and a random part), the
    annotation ``quickbite.ops/holder`` records the procedure for a refused
    run's message. Every write is conditioned on the resourceVersion read
    before it (create is atomic; takeover and renewal are a PUT with it,
    release a DELETE with it as precondition), so two runs cannot both hold
    it and a run cannot release a Lease another run holds. A thread renews
    ``renewTime`` every ``duration / 3`` seconds while held; a killed holder
    stops renewing and its Lease expires ``duration`` seconds after its last
    renewal (``renewTime + leaseDurationSeconds``, read as client-go's leader
    election reads it), then the next run takes it over."""

    def __init__(self, client, namespace, procedure='a procedure', duration=LEASE_SECONDS):
        self.client, self.namespace, self.procedure = client, namespace, procedure
        self.duration = max(int(duration), 1)
        self.name = LEASE_LOCK
        self.key = ('lease', getattr(client, 'host', None), namespace)
        self.identity = '%s/%d/%s' % (socket.gethostname(), os.getpid(), uuid.uuid4().hex[:12])
        self.lease = None
        self.lost = None
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._thread = None

    @property
    def _api(self):
        return self.client.coordination

    def _body(self, previous=None):
        now = _micro_now()
        transitions = 0
        if previous is not None:
            transitions = (previous.spec.lease_transitions or 0) + 1
        metadata = {'name': self.name, 'labels': {'app.kubernetes.io/managed-by': 'quickbite.ops'},
                    'annotations': {HOLDER_ANNOTATION: json.dumps(holder_record(self.procedure), sort_keys=True)}}
        if previous is not None:
            metadata['resourceVersion'] = previous.metadata.resource_version
        return {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease', 'metadata': metadata,
                'spec': {'holderIdentity': self.identity, 'leaseDurationSeconds': self.duration,
                         'acquireTime': now, 'renewTime': now, 'leaseTransitions': transitions}}

    def _read(self):
        try:
            return self.client.call('reading lease %s' % self.name, self._api.read_namespaced_lease,
                                    self.name, self.namespace)
        except NotFoundError:
            return None

    def _refuse(self, lease, lost_race=False):
        holder = lease_holder(lease)
        expires = lease_expiry(lease)
        raise LockedError(
            'refusing to %s: another run holds lock %s in namespace %s: %s%s; nothing was changed. Wait for it to '
            'finish and run again; if that run died, its Lease expires at %s (%d s after its last renewal), or '
            'delete Lease %s once that run is known to be dead'
            % (self.procedure, self.name, self.namespace, describe_holder(holder),
               ' (it took the lock a moment before this run)' if lost_race else '',
               _now(expires) if expires else 'once renewed no more', lease.spec.lease_duration_seconds or 0,
               self.name), holder=holder)

    def acquire(self):
        lease = self._read()
        if lease is None:
            try:
                self.lease = self.client.call('taking lock %s' % self.name, self._api.create_namespaced_lease,
                                              self.namespace, self._body())
            except PlatformError as exc:
                if ': 409 ' not in exc.msg:
                    raise
                self._refuse(self._read() or lease, lost_race=True)
        else:
            expires = lease_expiry(lease)
            if lease.spec.holder_identity and (expires is None or expires > time.time()):
                self._refuse(lease)
            try:
                # Only the resourceVersion read above is replaced: of two runs taking over, one wins.
                self.lease = self.client.call('taking over expired lock %s' % self.name,
                                              self._api.replace_namespaced_lease, self.name, self.namespace,
                                              self._body(lease))
            except PlatformError as exc:
                if ': 409 ' not in exc.msg:
                    raise
                self._refuse(self._read() or lease, lost_race=True)
        self._stop.clear()
        self.lost = None
        self._thread = threading.Thread(target=self._renew_loop, name='quickbite-ops-lease', daemon=True)
        self._thread.start()

    def renew(self):
        """One renewal: a PUT of ``renewTime`` with the resourceVersion of the
        last write. A conflict means another run took the Lease: recorded in
        ``lost``, renewal stops."""
        with self._mutex:
            if self.lease is None or self.lost:
                return False
            body = self.client.api_client.sanitize_for_serialization(self.lease)
            body['spec']['renewTime'] = _micro_now()
            try:
                self.lease = self.client.call('renewing lock %s' % self.name, self._api.replace_namespaced_lease,
                                              self.name, self.namespace, body)
            except PlatformError as exc:
                if ': 409 ' in exc.msg or isinstance(exc, NotFoundError):
                    self.lost = exc.msg
                return False
            return True

    def _renew_loop(self):
        while not self._stop.wait(self.duration / 3.0):
            self.renew()

    def release(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.duration)
            self._thread = None
        with self._mutex:
            lease, self.lease = self.lease, None
        if lease is None:
            return
        current = self._read()
        if current is None:
            return
        if current.spec.holder_identity != self.identity:
            raise LockedError(
                'not releasing lock %s in namespace %s: it is held by %s now, not by this run (this run\'s Lease '
                'expired and was taken over); the other run keeps it' % (
                    self.name, self.namespace, describe_holder(lease_holder(current))), holder=lease_holder(current))
        options = {'preconditions': {'resourceVersion': current.metadata.resource_version,
                                     'uid': current.metadata.uid}}
        try:
            self.client.call('releasing lock %s' % self.name, self._api.delete_namespaced_lease,
                             self.name, self.namespace, body=options)
        except NotFoundError:
            pass
        except PlatformError as exc:
            if ': 409 ' not in exc.msg:
                raise
            raise LockedError('not releasing lock %s in namespace %s: it changed while being released (%s); '
                              'another run holds it now' % (self.name, self.namespace, exc.msg))


def _micro_now(when=None):
    """A MicroTime string, as client-go writes renewTime."""
    when = time.time() if when is None else when
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(when)) + '.%06dZ' % int((when % 1) * 1000000)


def lease_expiry(lease):
    """Epoch seconds when the Lease expires (renewTime, else acquireTime, +
    leaseDurationSeconds); None without those fields (held with no expiry)."""
    spec = lease.spec
    renewed = epoch(spec.renew_time) or epoch(spec.acquire_time)
    if renewed is None or not spec.lease_duration_seconds:
        return None
    return renewed + spec.lease_duration_seconds


def lease_holder(lease):
    try:
        holder = json.loads((lease.metadata.annotations or {}).get(HOLDER_ANNOTATION) or 'null')
    except ValueError:
        holder = None
    if not isinstance(holder, dict):
        holder = {'procedure': lease.spec.holder_identity} if lease.spec.holder_identity else None
    return holder


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
