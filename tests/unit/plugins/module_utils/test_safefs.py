"""_safefs on real files: checked directories, planted symlinks never
followed, files created O_EXCL relative to the directory descriptor."""
import os
import stat
import subprocess

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs

NOBODY = 65534


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / 'victim'
    path.write_text('root data\n')
    os.chmod(str(path), 0o600)
    return path


def _untouched(victim):
    return victim.read_text() == 'root data\n' and stat.S_IMODE(os.stat(str(victim)).st_mode) == 0o600


def test_a_world_writable_directory_is_refused_naming_path_and_mode(tmp_path, victim):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    os.symlink(str(victim), str(shared / 'x.manifest.json'))
    with pytest.raises(_safefs.UnsafePathError) as info:
        _safefs.write_atomic(str(shared / 'x.manifest.json'), 'evil', 'backup_db_dest_dir')
    assert str(shared) in info.value.msg and '0777' in info.value.msg and 'chmod 0700' in info.value.msg
    assert 'backup_db_dest_dir' in info.value.msg
    assert _untouched(victim) and os.path.islink(str(shared / 'x.manifest.json'))


def test_a_directory_owned_by_someone_else_is_refused(tmp_path):
    other = tmp_path / 'other'
    other.mkdir(mode=0o700)
    os.chown(str(other), NOBODY, NOBODY)
    with pytest.raises(_safefs.UnsafePathError) as info:
        _safefs.SafeDir(str(other), 'logs_dest_dir').open()
    assert 'owned by nobody' in info.value.msg and 'chown' in info.value.msg


def test_a_writable_parent_is_refused(tmp_path):
    parent = tmp_path / 'open'
    parent.mkdir()
    os.chmod(str(parent), 0o777)
    with pytest.raises(_safefs.UnsafePathError) as info:
        _safefs.ensure_dir(str(parent / 'mine'), 'logs_dest_dir')
    assert 'the directory above it, %s (mode 0777)' % parent in info.value.msg


def test_a_symlinked_directory_is_refused(tmp_path):
    (tmp_path / 'real').mkdir(mode=0o700)
    os.symlink(str(tmp_path / 'real'), str(tmp_path / 'link'))
    with pytest.raises(_safefs.UnsafePathError) as info:
        _safefs.SafeDir(str(tmp_path / 'link'), 'logs_dest_dir').open()
    assert 'a symlink' in info.value.msg


def test_new_directories_are_made_0700_and_checked(tmp_path):
    path = _safefs.ensure_dir(str(tmp_path / 'a' / 'b'), 'var')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


def test_replace_renames_over_a_planted_symlink_without_following(tmp_path, victim):
    own = tmp_path / 'own'
    own.mkdir(mode=0o700)
    os.symlink(str(victim), str(own / 'f.sha256'))
    _safefs.write_atomic(str(own / 'f.sha256'), 'digest\n', 'var')
    assert _untouched(victim)
    assert not os.path.islink(str(own / 'f.sha256')) and (own / 'f.sha256').read_text() == 'digest\n'
    assert stat.S_IMODE(os.stat(str(own / 'f.sha256')).st_mode) == 0o600
    assert sorted(os.listdir(str(own))) == ['f.sha256']


def test_create_append_and_read_refuse_a_planted_symlink(tmp_path, victim):
    own = tmp_path / 'own'
    own.mkdir(mode=0o700)
    for name in ('x.partial', 'audit.log', 'lock'):
        os.symlink(str(victim), str(own / name))
    with _safefs.SafeDir(str(own), 'var') as directory:
        with pytest.raises(_safefs.UnsafePathError, match='exists already'):
            directory.create('x.partial')
        with pytest.raises(_safefs.UnsafePathError, match='symlink'):
            directory.append('audit.log')
        with pytest.raises(_safefs.UnsafePathError, match='symlink'):
            directory.open_rw('lock')
        with pytest.raises(_safefs.UnsafePathError, match='symlink'):
            directory.read_bytes('lock')
    assert _untouched(victim)


def test_append_refuses_a_hard_link_and_a_foreign_file(tmp_path, victim):
    own = tmp_path / 'own'
    own.mkdir(mode=0o700)
    os.link(str(victim), str(own / 'audit.log'))
    (own / 'theirs.log').write_text('')
    os.chown(str(own / 'theirs.log'), NOBODY, NOBODY)
    with _safefs.SafeDir(str(own), 'var') as directory:
        for name in ('audit.log', 'theirs.log'):
            with pytest.raises(_safefs.UnsafePathError, match='hard links|owned by'):
                directory.append(name)
    assert _untouched(victim)


def test_replace_removes_temporary_files_of_killed_runs_only(tmp_path):
    own = tmp_path / 'own'
    own.mkdir(mode=0o700)
    live = subprocess.Popen(['sleep', '30'])
    try:
        dead = subprocess.Popen(['true'])
        dead.wait()
        for pid in (dead.pid, live.pid):
            (own / ('.history.json.%d.tmp' % pid)).write_text('half written')
        (own / '.other.json.1.tmp').write_text('another name')
        _safefs.write_atomic(str(own / 'history.json'), '{}', 'var')
        left = sorted(p.name for p in own.iterdir())
        assert left == sorted(['.history.json.%d.tmp' % live.pid, '.other.json.1.tmp', 'history.json'])
    finally:
        live.kill()
        live.wait()
