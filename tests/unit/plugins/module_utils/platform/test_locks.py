"""The per-target lock on real files: one lock per target, the holder named
in a refusal, re-entrant within one process, a planted symlink refused."""
import fcntl
import json
import os
import socket

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.platform import _locks


def _hold(path, holder):
    """Another run's lock: its own open file description, flocked."""
    handle = open(path, 'a+')
    fcntl.flock(handle, fcntl.LOCK_EX)
    handle.truncate(0)
    handle.write(json.dumps(holder))
    handle.flush()
    return handle


def test_a_second_procedure_is_refused_at_once_naming_the_live_holder(tmp_path):
    state = tmp_path / 'state'
    state.mkdir(mode=0o700)
    holder = dict(procedure='restore the database', pid=os.getpid(), host=socket.gethostname(),
                  since='2026-01-01T00:00:00Z')
    other = _hold(str(state / 'target.lock'), holder)
    try:
        with pytest.raises(_locks.LockedError) as info:
            with _locks.FileLock(str(state), 'target', procedure='scale backend', wait=30):
                pass
        assert info.value.msg.startswith('refusing to scale backend: another run holds')
        assert 'restore the database (pid %d on %s, since 2026-01-01T00:00:00Z)' % (
            os.getpid(), socket.gethostname()) in info.value.msg
        assert 'nothing was changed' in info.value.msg and 'kernel released its lock' in info.value.msg
    finally:
        other.close()


def test_a_dead_holder_is_waited_for_only_up_to_wait(tmp_path):
    state = tmp_path / 'state'
    state.mkdir(mode=0o700)
    dead = dict(procedure='rotate JWT_SECRET', pid=2 ** 22 + 7, host=socket.gethostname(), since='x')
    other = _hold(str(state / 'target.lock'), dead)
    with pytest.raises(_locks.LockedError, match='rotate JWT_SECRET'):
        with _locks.FileLock(str(state), 'target', procedure='restart', wait=0.3):
            pass
    other.close()  # the kernel releases it with its holder
    with _locks.FileLock(str(state), 'target', procedure='restart', wait=0.3):
        record = json.loads((state / 'target.lock').read_text())
        assert record['procedure'] == 'restart' and record['pid'] == os.getpid()
    assert (state / 'target.lock').read_text() == ''


def test_reentrant_within_one_process(tmp_path):
    state = str(tmp_path / 'state')
    with _locks.FileLock(state, 'target', procedure='rotate JWT_SECRET', wait=0):
        with _locks.FileLock(state, 'target', procedure='restart backend', wait=0):
            pass
        # still held after the inner block: another open file description conflicts
        handle = open(os.path.join(state, 'target.lock'))
        with pytest.raises(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.close()
    assert not _locks._HELD


def test_the_lock_file_as_a_planted_symlink_is_refused(tmp_path):
    state = tmp_path / 'state'
    state.mkdir(mode=0o700)
    victim = tmp_path / 'victim'
    victim.write_text('root data\n')
    os.symlink(str(victim), str(state / 'target.lock'))
    with pytest.raises(_safefs.UnsafePathError, match='symlink'):
        with _locks.FileLock(str(state), 'target', procedure='scale'):
            pass
    assert victim.read_text() == 'root data\n'


def test_check_mode_takes_no_lock(tmp_path):
    class Adapter(object):
        def lock(self, procedure, ttl=3600):
            raise AssertionError('locked in check mode')
    with _locks.target_lock(Adapter(), 'scale', check_mode=True):
        pass


def test_lease_expiry_and_holder_read_from_the_lease():
    class Spec(object):
        holder_identity, lease_duration_seconds = 'h/1/x', 60
        renew_time, acquire_time = '2026-01-01T00:00:00.500000Z', None

    class Meta(object):
        annotations = {_locks.HOLDER_ANNOTATION: json.dumps({'procedure': 'scale backend'})}

    class Lease(object):
        spec, metadata = Spec(), Meta()
    assert _locks.lease_expiry(Lease()) == 1767225600.5 + 60
    assert _locks.lease_holder(Lease()) == {'procedure': 'scale backend'}
    Lease.metadata.annotations = {}
    assert _locks.lease_holder(Lease()) == {'procedure': 'h/1/x'}
    assert _locks._micro_now(1767225600.25) == '2026-01-01T00:00:00.250000Z'
