"""The logs module's file, written on real files through _safefs: a planted
symlink is never followed, an output directory others can write is refused."""
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.logs import service

NAME = 'quickbite-logs-redis-20260105T100500Z.log'


def test_a_planted_symlink_in_the_output_dir_is_not_followed(tmp_path):
    out = tmp_path / 'out'
    out.mkdir(mode=0o750)
    victim = tmp_path / 'victim'
    victim.write_text('root data\n')
    os.symlink(str(victim), str(out / NAME))
    path = service.write_file(str(out), NAME, 'collected\n')
    assert path == str(out / NAME.replace('.log', '-2.log'))
    assert victim.read_text() == 'root data\n'
    assert not os.path.islink(path) and os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(str(out))) == sorted([NAME, os.path.basename(path)])  # no temporary file left


def test_a_world_writable_output_dir_is_refused(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    os.chmod(str(out), 0o777)
    with pytest.raises(ConfigError) as info:
        service.write_file(str(out), NAME, 'collected\n')
    assert 'logs_dest_dir %s (mode 0777)' % out in info.value.msg and 'chmod 0700' in info.value.msg
    assert os.listdir(str(out)) == []


def test_a_new_output_dir_is_made_0750(tmp_path):
    path = service.write_file(str(tmp_path / 'a' / 'out'), NAME, 'collected\n')
    assert os.stat(os.path.dirname(path)).st_mode & 0o777 == 0o750
