"""Files in shared directories and the per-target lock, on the real Compose
stack (issue 10 items 3, 7, 12): a planted symlink is never followed, an
unsafe backup directory is refused, a bad prefix is refused, and a second
procedure that would change the target is refused with the holder named."""
import datetime
import os
import secrets
import socket
import stat
import subprocess

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs, envfile
from ansible_collections.quickbite.ops.plugins.module_utils.platform._locks import FileLock
from conftest import compose, run_playbook
from dbtools import backups_in, start_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]

NOBODY = 65534


@pytest.fixture
def victim(tmp_path):
    """A root-owned file that a planted symlink points at."""
    path = tmp_path / 'victim'
    path.write_text('root data\n')
    os.chmod(str(path), 0o600)
    return path


def _untouched(victim):
    st = os.stat(str(victim))
    return victim.read_text() == 'root data\n' and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0


def _plant(directory, name, target):
    """A symlink as user nobody would plant it."""
    path = os.path.join(str(directory), name)
    os.symlink(str(target), path)
    os.lchown(path, NOBODY, NOBODY)
    return path


def _backup(demo_vars, dest, tmp_path, **extra):
    values = dict(demo_vars, backup_db_dest_dir=str(dest), backup_db_keep_last=0)
    values.update(extra)
    return run_playbook('backup-db.yml', extra=values, tmp_path=tmp_path)


def test_world_writable_backup_dir_with_a_planted_symlink_is_refused(stack, demo_vars, tmp_path, victim):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    _plant(shared, '.quickbite-backup.lock', victim)
    run = _backup(demo_vars, shared, tmp_path)
    assert run.rc != 0
    msg = run.result('pg_backup')['msg']
    assert msg.startswith('refusing to write into backup_db_dest_dir (quickbite_backup_dir) %s (mode 0777)' % shared)
    assert 'chmod 0700' in msg and 'writable by group or others' in msg
    assert _untouched(victim) and os.listdir(str(shared)) == ['.quickbite-backup.lock']
    # Owned by someone else (0700, nobody's): refused the same way.
    os.chmod(str(shared), 0o700)
    os.chown(str(shared), NOBODY, NOBODY)
    run = _backup(demo_vars, shared, tmp_path)
    assert run.rc != 0 and 'owned by nobody, not by root' in run.result('pg_backup')['msg']
    assert _untouched(victim)


def test_own_backup_dir_never_follows_planted_names(stack, demo_vars, tmp_path, victim):
    """Root's 0700 directory with symlinks named like this run's .partial,
    .sha256 and .manifest.json (for every second of the next minutes):
    the backup succeeds, and the files it writes are its own, not the target."""
    dest = tmp_path / 'own'
    dest.mkdir(mode=0o700)
    now = datetime.datetime.now().astimezone()
    planted = []
    for second in range(-2, 180):
        base = 'quickbite_%s.sql.zst' % (now + datetime.timedelta(seconds=second)).strftime('%Y%m%d_%H%M%S')
        base2 = base.replace('.sql.zst', '_2.sql.zst')
        for name in (base + '.partial', base + '.sha256', base + '.manifest.json', base2 + '.partial',
                     base2 + '.sha256'):
            planted.append(_plant(dest, name, victim))
    run = _backup(demo_vars, dest, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    assert _untouched(victim)
    for item in (path, path + '.sha256', path + '.manifest.json'):
        assert not os.path.islink(item) and stat.S_IMODE(os.lstat(item).st_mode) == 0o600, item
    # This run's planted .partial names were removed as leftovers (the links, not their target).
    assert not any(p.endswith('.partial') and os.path.lexists(p) for p in planted)
    assert subprocess.run(['sha256sum', '-c', os.path.basename(path) + '.sha256'], cwd=str(dest),
                          capture_output=True, check=False).returncode == 0
    # The directory lock planted as a symlink: refused, not followed (module-level, the same lock API).
    os.unlink(str(dest / '.quickbite-backup.lock'))
    _plant(dest, '.quickbite-backup.lock', victim)
    with pytest.raises(_safefs.UnsafePathError, match='quickbite-backup.lock: it is a symlink'):
        with FileLock(str(dest), '.quickbite-backup', procedure='back up the database'):
            pass
    assert _untouched(victim)


def test_a_prefix_outside_the_backup_dir_is_refused(stack, demo_vars, tmp_path):
    dest = tmp_path / 'backups'
    for prefix in ('../x', 'a/b'):
        run = _backup(demo_vars, dest, tmp_path, backup_db_prefix=prefix)
        assert run.rc != 0
        assert run.result('pg_backup')['msg'].startswith("backup_db_prefix '%s' is not a plain name" % prefix)
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith('x_')]
    assert not dest.exists() or backups_in(str(dest)) == []


def _backend_replicas():
    return len(compose('ps', '-q', 'backend').stdout.split())


def test_a_held_target_lock_refuses_scale_and_rotation_naming_the_holder(stack, demo_vars, tmp_path):
    state = os.path.join(stack['dir'], '.quickbite-ops')
    path, before = os.path.join(stack['dir'], '.env.prod'), None
    with open(path, 'rb') as handle:
        before = handle.read()
    replicas = _backend_replicas()
    with FileLock(state, 'target', procedure='restore database quickbite'):
        run = run_playbook('scale.yml', extra=dict(demo_vars, scale_service='backend', scale_replicas=replicas + 1),
                           tmp_path=tmp_path)
        assert run.rc != 0
        msg = run.result('scale')['msg']
        assert msg.startswith('refusing to scale backend: another run holds the lock of the compose project in %s: '
                              'restore database quickbite (pid %d on %s, since ' % (stack['dir'], os.getpid(),
                                                                                    socket.gethostname())), msg
        assert 'nothing was changed' in msg and 'Wait for it to finish' in msg
        run = run_playbook('rotate_webhook_secret.yml', tmp_path=tmp_path, extra=dict(
            demo_vars, rotate_webhook_secret_new='whsec_' + secrets.token_hex(16),
            rotate_webhook_secret_audit_log=str(tmp_path / 'audit.log')))
        assert run.rc != 0 and 'refusing to rotate PAYMENT_WEBHOOK_SECRET: another run holds the lock' in run.output
    assert _backend_replicas() == replicas
    with open(path, 'rb') as handle:
        assert handle.read() == before
    # Check mode takes no lock: it runs while another run holds it.
    with FileLock(state, 'target', procedure='restore database quickbite'):
        run = run_playbook('scale.yml', extra=dict(demo_vars, scale_service='backend', scale_replicas=replicas),
                           check=True, tmp_path=tmp_path)
        assert run.rc == 0, run.output[-3000:]


def test_jwt_and_webhook_rotations_at_once_lose_no_change(stack, demo_vars, tmp_path):
    """Both secrets live in one env file: started together, one rotation runs
    and the other is refused naming it (or runs after it); every change that
    was reported is in the file, nothing else changed."""
    path = os.path.join(stack['dir'], '.env.prod')
    before = envfile.read(path)
    webhook = 'whsec_' + secrets.token_hex(16)
    jwt = secrets.token_hex(32)
    procs = {
        'JWT_SECRET': start_playbook('rotate-jwt.yml', dict(demo_vars, rotate_jwt_new_secret=jwt,
                                                            rotate_jwt_audit_log=str(tmp_path / 'a.log'))),
        'PAYMENT_WEBHOOK_SECRET': start_playbook('rotate_webhook_secret.yml', dict(
            demo_vars, rotate_webhook_secret_new=webhook, rotate_webhook_secret_audit_log=str(tmp_path / 'a.log'))),
    }
    outputs = dict((key, proc.communicate(timeout=600)[0]) for key, proc in procs.items())
    rcs = dict((key, proc.returncode) for key, proc in procs.items())
    after = envfile.read(path)
    wanted = dict(JWT_SECRET=jwt, PAYMENT_WEBHOOK_SECRET=webhook)
    assert 0 in rcs.values(), outputs
    for key, rc in rcs.items():
        if rc == 0:
            assert after[key] == wanted[key], key
        else:
            other = [k for k in rcs if k != key][0]
            assert 'another run holds the lock of the compose project' in outputs[key], outputs[key][-3000:]
            assert 'rotate %s (pid ' % other in outputs[key]
            assert after[key] == before[key], key
    assert dict((k, v) for k, v in after.items() if k not in wanted) == \
        dict((k, v) for k, v in before.items() if k not in wanted)
