"""scripts/stack.sh reset removes only a directory that stack.sh up made
(it holds the marker file); anything else is refused before any change.
No Docker needed: the refusal comes first."""
import os
import subprocess
from pathlib import Path

STACK_SH = Path(__file__).resolve().parents[3] / 'scripts' / 'stack.sh'


def _reset(directory):
    # No docker on PATH: a reset that got past the marker check would fail
    # at ensure_docker instead of removing anything by accident.
    env = dict(os.environ, PATH='/usr/bin:/bin')
    return subprocess.run(['bash', str(STACK_SH), 'reset', str(directory)], capture_output=True, text=True,
                          timeout=30, env=env, check=False)


def test_reset_refuses_a_directory_without_the_marker(tmp_path):
    target = tmp_path / 'precious'
    target.mkdir()
    (target / 'docker-compose.prod.yml').write_text('services: {}\n')
    (target / '.env.prod').write_text('A=1\n')
    (target / 'data').write_text('keep me\n')
    proc = _reset(target)
    assert proc.returncode != 0
    assert 'refusing to reset %s' % target in proc.stderr
    assert '.quickbite-stack' in proc.stderr and 'nothing was removed' in proc.stderr
    assert sorted(p.name for p in target.iterdir()) == ['.env.prod', 'data', 'docker-compose.prod.yml']
    assert (target / 'data').read_text() == 'keep me\n'


def test_reset_refuses_a_marker_that_is_a_symlink(tmp_path):
    target = tmp_path / 'precious'
    target.mkdir()
    (tmp_path / 'elsewhere').write_text('x')
    os.symlink(str(tmp_path / 'elsewhere'), str(target / '.quickbite-stack'))
    proc = _reset(target)
    assert proc.returncode != 0 and 'lacks the marker file' in proc.stderr
    assert target.is_dir()


def test_reset_refuses_root_and_a_symlinked_directory(tmp_path):
    os.symlink(str(tmp_path), str(tmp_path / 'link'))
    for target in ('/', tmp_path / 'link'):
        proc = _reset(target)
        assert proc.returncode != 0 and 'refusing to reset' in proc.stderr
    assert tmp_path.is_dir()
