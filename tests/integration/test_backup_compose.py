"""pg_backup on the real Compose stack and PostgreSQL 15: what a backup
holds, atomicity under failure (PostgreSQL stopped, full disk, SIGTERM),
retention and check mode."""
import hashlib
import json
import os
import signal
import subprocess

import pytest

from conftest import PG_PORT, compose, descendants, kill_module, run_playbook
from dbtools import backups_in, drop_db, make_big_db, start_playbook, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.compose]

BIG = 'quickbite_bigtest'


def backup(demo_vars, dest, tmp_path, check=False, **extra):
    values = dict(demo_vars, backup_db_dest_dir=dest, backup_db_keep_last=0)
    values.update(extra)
    return run_playbook('backup-db.yml', extra=values, check=check, tmp_path=tmp_path)


def test_default_backup_is_atomic_checksummed_and_described(stack, demo_vars, dest, tmp_path):
    run = backup(demo_vars, dest, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('pg_backup')
    path = result['path']
    name = os.path.basename(path)
    assert name.startswith('quickbite_') and name.endswith('.sql.zst')
    assert sorted(backups_in(dest)) == sorted([name, name + '.manifest.json', name + '.sha256'])
    for item in (path, path + '.sha256', path + '.manifest.json'):
        assert os.stat(item).st_mode & 0o777 == 0o600, item
    with open(path, 'rb') as handle:
        data = handle.read()
    assert data[:4] == b'\x28\xb5\x2f\xfd'  # zstd frame
    with open(path + '.sha256') as handle:
        assert handle.read() == '%s  %s\n' % (hashlib.sha256(data).hexdigest(), name)
    assert subprocess.run(['sha256sum', '-c', name + '.sha256'], cwd=dest, capture_output=True, check=False).returncode == 0
    with open(path + '.manifest.json') as handle:
        manifest = json.load(handle)
    for key in ('database', 'server_version', 'format', 'size', 'sha256', 'flyway_version', 'started', 'ended',
                'duration'):
        assert manifest[key] not in (None, ''), key
    assert manifest['database'] == 'quickbite' and manifest['format'] == 'plain'
    assert manifest['server_version'].startswith('15.')
    assert manifest['size'] == len(data) and manifest['flyway_version'] == '4'
    assert manifest['tables']['orders'] == int(subprocess.run(
        ['psql', '-h', '127.0.0.1', '-p', str(PG_PORT), '-U', 'quickbite', '-d', 'quickbite', '-tAc',
         'SELECT count(*) FROM orders'], capture_output=True, text=True, check=True,
        env=dict(os.environ, PGPASSWORD=stack['env']['DB_PASSWORD'])).stdout)
    script = subprocess.run(['zstd', '-dc', path], capture_output=True, check=True).stdout
    assert script.startswith(b'--\n-- PostgreSQL database dump') and b'COPY public.orders ' in script
    assert b'-- PostgreSQL database dump complete' in script[-512:]
    assert any('took' in line for line in result['report_lines'])


@pytest.mark.parametrize('fmt,comp,ext', [('plain', 'gzip', '.sql.gz'), ('directory', 'gzip', '.dir'),
                                          ('custom', 'gzip', '.dump'), ('custom', 'zstd', '.dump.zst'),
                                          ('plain', 'none', '.sql')])
def test_other_formats(stack, demo_vars, dest, tmp_path, fmt, comp, ext):
    run = backup(demo_vars, dest, tmp_path, backup_db_format=fmt, backup_db_compression=comp, backup_db_verify=True)
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    assert path.endswith(ext) and run.result('verify_backup')['ok']
    assert subprocess.run(['sha256sum', '-c', os.path.basename(path) + '.sha256'], cwd=dest,
                          capture_output=True, check=False).returncode == 0


def test_bad_options_fail_before_anything(stack, demo_vars, dest, tmp_path):
    run = backup(demo_vars, dest, tmp_path, backup_db_format='directory', backup_db_compression='zstd')
    assert run.rc != 0 and 'backup_db_compression' in run.output
    run = backup(demo_vars, dest, tmp_path, backup_db_format='tar')
    assert run.rc != 0 and 'backup_db_format' in run.output
    assert backups_in(dest) == []


def test_check_mode_writes_nothing_and_lists_retention(stack, demo_vars, dest, tmp_path):
    for _round in range(3):
        real = backup(demo_vars, dest, tmp_path)
        assert real.rc == 0 and real.result('pg_backup')['changed'] is True
    before = backups_in(dest)
    run = backup(demo_vars, dest, tmp_path, check=True, backup_db_keep_last=2)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('pg_backup')
    # Check mode predicts the run's changed (a backup always writes a file) and writes nothing.
    assert result['changed'] is True and backups_in(dest) == before
    # Three now and the new one would make four: keeping two deletes the oldest two.
    oldest = sorted(n for n in before if n.endswith('.sql.zst'))[:2]
    assert [os.path.basename(p) for p in result['would_delete']] == oldest
    assert all(any(name in line for line in result['report_lines']) for name in oldest)


def test_retention_keeps_newest_and_newest_verified(stack, demo_vars, dest, tmp_path):
    first = backup(demo_vars, dest, tmp_path, backup_db_verify=True)
    assert first.rc == 0
    verified = first.result('pg_backup')['path']
    for _round in range(3):
        assert backup(demo_vars, dest, tmp_path).rc == 0
    run = backup(demo_vars, dest, tmp_path, backup_db_keep_last=2)
    assert run.rc == 0, run.output[-3000:]
    kept = sorted(n for n in backups_in(dest) if n.endswith('.sql.zst'))
    # 5 backups, keep 2: the newest two stay, and the verified one is never deleted.
    assert len(kept) == 3 and os.path.basename(verified) in kept
    assert len(run.result('pg_backup')['deleted']) == 2
    assert not [n for n in backups_in(dest) if n.endswith('.sha256') and n[:-7] not in kept]


def test_retention_keeps_and_reports_a_backup_whose_manifest_has_no_start_time(stack, demo_vars, dest, tmp_path):
    # A manifest without 'started' (written by hand or another tool) beside a dated old backup.
    os.makedirs(dest, 0o700)
    for stamp, manifest in (('20200101_020000', {'started': '2020-01-01T02:00:00+0000'}), ('20200102_020000', {})):
        with open(os.path.join(dest, 'quickbite_%s.sql.zst' % stamp), 'wb') as handle:
            handle.write(b'\x28\xb5\x2f\xfd')
        with open(os.path.join(dest, 'quickbite_%s.sql.zst.manifest.json' % stamp), 'w') as handle:
            json.dump(manifest, handle)
    run = backup(demo_vars, dest, tmp_path, backup_db_keep_days=1)
    assert run.rc == 0, run.output[-3000:]
    result = run.result('pg_backup')
    undated = os.path.join(dest, 'quickbite_20200102_020000.sql.zst')
    assert result['deleted'] == [os.path.join(dest, 'quickbite_20200101_020000.sql.zst')]
    assert [line.split(': ')[0] for line in result['retention_skipped']] == [undated]
    assert 'so retention keeps it; fix the manifest or delete the backup by hand' in run.output  # the warning
    names = backups_in(dest)
    assert os.path.basename(result['path']) in names and os.path.basename(undated) in names
    assert 'quickbite_20200101_020000.sql.zst' not in names


@pytest.fixture(scope='module')
def big_db(stack):
    make_big_db(BIG)
    yield BIG
    drop_db(BIG)


def slow_backup(demo_vars, dest):
    """A backup of the big database with zstd -19: slow enough to interrupt."""
    return start_playbook('backup-db.yml', dict(demo_vars, backup_db_dest_dir=dest, quickbite_db_name=BIG,
                                                backup_db_compression_level=19, backup_db_compression_threads=1))


def older_backup(demo_vars, dest, tmp_path):
    run = backup(demo_vars, dest, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    with open(path, 'rb') as handle:
        return path, hashlib.sha256(handle.read()).hexdigest(), backups_in(dest)


def _pg_dumps(proc):
    """The pg_dump processes below the playbook ``proc`` (found by PID, never by name alone)."""
    return [pid for pid in descendants(proc.pid) if _program(pid) == 'pg_dump']


def _program(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return os.path.basename(handle.read().split(b'\0')[0].decode('utf-8', 'replace'))
    except (IOError, OSError):
        return None


def assert_nothing_new(dest, path, digest, names):
    assert backups_in(dest) == names, 'left behind: %s' % (set(backups_in(dest)) - set(names))
    with open(path, 'rb') as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == digest


def test_sigterm_leaves_no_backup_and_keeps_older(big_db, demo_vars, dest, tmp_path):
    path, digest, names = older_backup(demo_vars, dest, tmp_path)
    proc = slow_backup(demo_vars, dest)
    assert wait_for(lambda: any(n.endswith('.partial') for n in backups_in(dest)), timeout=60)
    assert kill_module(proc, 'pg_backup', signal.SIGTERM)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode != 0 and 'interrupted' in output, output[-3000:]
    assert_nothing_new(dest, path, digest, names)


def test_postgres_stopped_mid_backup_fails_cleanly(big_db, demo_vars, dest, tmp_path):
    """pg_dump is held (SIGSTOP) from its first moments until PostgreSQL has
    stopped: zstd takes in tens of MB before it pushes back, so on a busy host an
    unheld pg_dump had sent the whole dump before the stop (cc28: the backup
    succeeded)."""
    path, digest, names = older_backup(demo_vars, dest, tmp_path)
    proc = slow_backup(demo_vars, dest)
    held = []
    try:
        assert wait_for(lambda: _pg_dumps(proc), timeout=60, interval=0.01)
        held = _pg_dumps(proc)
        for pid in held:
            os.kill(pid, signal.SIGSTOP)
        assert held and wait_for(lambda: any(n.endswith('.partial') for n in backups_in(dest)), timeout=30)
        compose('stop', 'postgres')
    finally:
        for pid in held:
            os.kill(pid, signal.SIGCONT)
    try:
        output = proc.communicate(timeout=180)[0]
    finally:
        compose('up', '-d', '--wait', 'postgres', 'backend')
    assert proc.returncode != 0 and 'pg_dump failed' in output, output[-3000:]
    assert_nothing_new(dest, path, digest, names)


def test_full_disk_fails_cleanly(big_db, demo_vars, tmp_path):
    mount = tmp_path / 'small'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', str(mount)], check=True)
    try:
        dest = str(mount)
        path, digest, names = older_backup(demo_vars, dest, tmp_path)
        run = backup(demo_vars, dest, tmp_path, quickbite_db_name=BIG)
        assert run.rc != 0 and 'No space left on device' in run.output, run.output[-3000:]
        assert_nothing_new(dest, path, digest, names)
    finally:
        subprocess.run(['umount', str(mount)], check=False)


def test_leftovers_of_a_killed_run_are_removed_by_the_next(stack, demo_vars, dest, tmp_path):
    path, digest, names = older_backup(demo_vars, dest, tmp_path)
    # A SIGKILLed run leaves its partial file (and, in a narrow window, a file with no manifest).
    leftover = os.path.join(dest, 'quickbite_20200101_000000.sql.zst')
    for name in (leftover + '.partial', leftover):
        with open(name, 'wb') as handle:
            handle.write(b'half a dump')
    run = backup(demo_vars, dest, tmp_path)
    assert run.rc == 0
    assert sorted(run.result('pg_backup')['removed_leftovers']) == sorted([leftover, leftover + '.partial'])
    assert not os.path.exists(leftover) and not os.path.exists(leftover + '.partial')


def test_two_backups_never_overlap(big_db, demo_vars, dest, tmp_path):
    proc = slow_backup(demo_vars, dest)
    try:
        assert wait_for(lambda: any(n.endswith('.partial') for n in backups_in(dest)), timeout=60)
        run = backup(demo_vars, dest, tmp_path, backup_db_lock_timeout=1)
        assert run.rc != 0 and 'another run holds' in run.output, run.output[-3000:]
    finally:
        kill_module(proc, 'pg_backup', signal.SIGTERM, timeout=0)
        proc.communicate(timeout=120)
