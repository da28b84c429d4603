"""The rotation audit log on real files: appended through _safefs, so a
planted symlink or a directory others can write is refused, and a rotation
refuses it before anything changes."""
import json
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import engine
from ansible_collections.quickbite.ops.plugins.module_utils.rotation.specs import SecretSpec


class _Untouchable(object):
    """An adapter that fails the test if the rotation gets as far as using it."""
    platform = 'compose'

    def store(self):
        return self

    def __getattr__(self, name):
        raise AssertionError('the rotation went on to %s' % name)


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / 'victim'
    path.write_text('root data\n')
    return path


def test_appends_one_json_line_per_entry(tmp_path):
    log = tmp_path / 'logs' / 'rotation.log'
    engine.append_audit(str(log), dict(secret='JWT_SECRET', outcome='rotated'))
    engine.append_audit(str(log), dict(secret='JWT_SECRET', outcome='rolled back'))
    assert [json.loads(line)['outcome'] for line in log.read_text().splitlines()] == ['rotated', 'rolled back']
    assert os.stat(str(log)).st_mode & 0o777 == 0o640 and os.stat(str(log.parent)).st_mode & 0o777 == 0o750


def test_an_audit_log_planted_as_a_symlink_is_refused_before_anything_changes(tmp_path, victim):
    os.symlink(str(victim), str(tmp_path / 'audit.log'))
    rotation = engine.Rotation(_Untouchable(), SecretSpec('JWT_SECRET', None, None), str(tmp_path / 'audit.log'), 'tester')
    with pytest.raises(ConfigError, match='audit.log: it is a symlink'):
        rotation.run('new')
    assert victim.read_text() == 'root data\n'


def test_a_world_writable_audit_log_directory_is_refused(tmp_path):
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    rotation = engine.Rotation(_Untouchable(), SecretSpec('JWT_SECRET', None, None), str(shared / 'audit.log'), 'tester')
    with pytest.raises(ConfigError, match=r'rotate_\*_audit_log %s \(mode 0777\)' % shared):
        rotation.run('new')
    assert os.listdir(str(shared)) == []
