"""_artefacts: a destination the run knows to be thrown away (an AWX or
ansible-runner execution environment, not a mounted volume) is refused
unless allowed; elsewhere nothing is."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _artefacts
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

MOUNTS = ('36 25 0:32 / / rw - overlay overlay rw\n'
          '37 36 0:33 / /runner rw - tmpfs tmpfs rw\n'
          '38 36 8:1 /pv /backups rw - ext4 /dev/sda1 rw\n')


@pytest.fixture
def mountinfo(tmp_path):
    path = tmp_path / 'mountinfo'
    path.write_text(MOUNTS)
    return str(path)


def _refuse(path, mountinfo, environ, runner_dir='/nonexistent', allow=False):
    _artefacts.refuse_ephemeral(path, 'the backup', 'backup_db_dest_dir', 'backup_db_allow_ephemeral', allow,
                                environ=environ, runner_dir=runner_dir, mountinfo=mountinfo)


def test_detects_runner_and_awx_as_they_show_themselves(tmp_path):
    assert _artefacts.in_execution_environment({}, '/nonexistent') is None
    assert 'ansible-runner' in _artefacts.in_execution_environment({}, str(tmp_path))
    assert _artefacts.in_execution_environment({'AWX_HOST': 'x'}, '/nonexistent') == \
        'an AWX job (AWX_HOST in the environment)'
    assert _artefacts.in_execution_environment({'JOB_ID': '7', 'INVENTORY_ID': '1'}, '/nonexistent')


def test_container_filesystem_and_runner_refused_a_mounted_volume_kept(mountinfo):
    env = {'AWX_HOST': 'https://awx'}
    with pytest.raises(ConfigError) as info:
        _refuse('/var/backups/quickbite', mountinfo, env)
    assert info.value.msg.startswith("refusing to write the backup to /var/backups/quickbite: this run is an AWX job "
                                     "(AWX_HOST in the environment), whose filesystem is thrown away when the job "
                                     "ends (/var/backups/quickbite is on the container's own filesystem")
    assert 'Set backup_db_dest_dir to a path on a volume' in info.value.msg
    assert 'or set backup_db_allow_ephemeral=true' in info.value.msg
    with pytest.raises(ConfigError):
        _refuse('/runner/artifacts/x', mountinfo, env)
    _refuse('/backups/quickbite', mountinfo, env)       # a volume the EE mounts
    _refuse('/var/backups/quickbite', mountinfo, env, allow=True)
    _refuse('/var/backups/quickbite', mountinfo, {})    # not in an EE: nothing refused
