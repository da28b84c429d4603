"""verify_backup's scratch database (issue 10 item 5) and the foreign-backup
check (item 2): which names and databases it refuses, as case tables."""
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import integrity, verify
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

LONG = 'q' * 63


@pytest.mark.parametrize('live,scratch,refused', [
    ('quickbite', 'quickbite', True),
    ('quickbite', 'quickbite_test', False),
    ('Quickbite', 'quickbite', False),            # quoted identifiers: another database
    (LONG, LONG + 'x', True),                     # PostgreSQL keeps 63 bytes: the same database
    ('q' * 62, 'q' * 62 + 'é', True),             # 'é' (2 bytes) does not fit: cut before it, never inside
    ('q' * 61 + 'é', 'q' * 61 + 'éx', True),
    ('q' * 61 + 'é', 'q' * 61 + 'è', False),
])
def test_scratch_is_never_the_live_database(live, scratch, refused):
    if refused:
        with pytest.raises(ConfigError, match='verify_backup_database'):
            verify.require_scratch_not_live(live, scratch)
    else:
        verify.require_scratch_not_live(live, scratch)


class FakeDb(object):
    def __init__(self, comment=None, exists=True):
        self._comment, self._exists, self.dropped = comment, exists, []

    def exists(self, name):
        return self._exists

    def comment(self, name):
        return self._comment

    def drop(self, name):
        self.dropped.append(name)


@pytest.mark.parametrize('db,answer', [
    (FakeDb(exists=False), False),
    (FakeDb('quickbite.ops scratch: verify_backup 2026-01-01T00:00:00+00:00 pid 7'), True),
    (FakeDb(None), 'refused'),
    (FakeDb('reports of 2025'), 'refused'),
])
def test_only_a_marked_scratch_database_is_a_leftover(db, answer):
    if answer == 'refused':
        with pytest.raises(ConfigError, match='Choose another verify_backup_database') as info:
            verify.scratch_leftover(db, 'quickbite_test')
        assert 'quickbite_test' in info.value.msg
    else:
        assert verify.scratch_leftover(db, 'quickbite_test') is answer
    assert db.dropped == []


def _backup(tmp_path, mode=0o600, extras=('.manifest.json', '.sha256')):
    path = str(tmp_path / 'quickbite_20260101_000000.sql.zst')
    for name in [''] + list(extras):
        with open(path + name, 'w') as handle:
            handle.write('x')
        os.chmod(path + name, 0o600)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize('mode,extras,problem', [
    (0o600, ('.manifest.json', '.sha256'), None),
    (0o666, ('.manifest.json', '.sha256'), 'writable by group or others (mode 0666)'),
    (0o620, ('.manifest.json', '.sha256'), 'mode 0620'),
    (0o600, ('.sha256',), 'no pg_backup manifest and sidecar'),
    (0o600, (), 'no pg_backup manifest and sidecar'),
])
def test_foreign_backups_need_the_option(tmp_path, mode, extras, problem):
    os.chmod(str(tmp_path), 0o700)
    path = _backup(tmp_path, mode, extras)
    if problem is None:
        assert 'owned by' in integrity.require_own(path, False, 'restore_db_allow_foreign_backup')
        return
    with pytest.raises(ConfigError) as info:
        integrity.require_own(path, False, 'restore_db_allow_foreign_backup')
    assert path in info.value.msg and problem in info.value.msg
    assert 'restore_db_allow_foreign_backup=true' in info.value.msg
    assert 'foreign backup accepted' in integrity.require_own(path, True, 'restore_db_allow_foreign_backup')


def test_a_directory_others_can_write_makes_it_foreign(tmp_path):
    path = _backup(tmp_path)
    os.chmod(str(tmp_path), 0o777)
    try:
        assert any('its directory' in p and 'mode 0777' in p for p in integrity.foreign_problems(path))
        os.chmod(str(tmp_path), 0o1777)  # sticky: others cannot replace this user's file
        assert integrity.foreign_problems(path) == []
    finally:
        os.chmod(str(tmp_path), 0o700)


def test_a_symlinked_manifest_makes_it_foreign(tmp_path):
    os.chmod(str(tmp_path), 0o700)
    path = _backup(tmp_path, extras=('.sha256',))
    os.symlink('/etc/hostname', path + '.manifest.json')
    assert any('is a symlink' in p for p in integrity.foreign_problems(path))
