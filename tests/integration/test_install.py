"""The README's install lines, run as written from a fresh clone (issue 16 item 5):
the collection really installs (not "Nothing to do. All requested collections are
already installed", which the checkout's ansible.cfg and .collections made it
answer), and `ansible-playbook quickbite.ops.healthcheck` is then found from
another directory. A private HOME holds ~/.ansible and the build: the real ones
are never touched. The clone is of the repository's HEAD (commit first)."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, VENV_BIN

pytestmark = [pytest.mark.integration]


def _install_lines():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        text = f.read()
    section = re.search(r'^## Install the collection\n(.*?)(?=^## )', text, re.M | re.S)
    assert section, 'README.md has no "## Install the collection" section'
    block = re.search(r'^```bash\n(.*?)^```', section.group(1), re.M | re.S)
    assert block, 'README.md: no bash block under "## Install the collection"'
    return block.group(1)


def test_readme_install_lines_work_from_a_fresh_clone(tmp_path):
    home, clone, elsewhere = tmp_path / 'home', tmp_path / 'clone', tmp_path / 'elsewhere'
    home.mkdir()
    elsewhere.mkdir()
    subprocess.run(['git', 'clone', '-q', ROOT, str(clone)], check=True, timeout=120)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith('ANSIBLE_'))
    env.update(HOME=str(home), PATH=VENV_BIN + os.pathsep + env.get('PATH', ''))
    lines = _install_lines()
    proc = subprocess.run(['bash', '-euo', 'pipefail', '-c', lines], cwd=str(clone), env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert 'Nothing to do' not in out and 'quickbite.ops:0.1.0 was installed successfully' in out, out
    installed = home / '.ansible' / 'collections' / 'ansible_collections' / 'quickbite' / 'ops'
    assert (installed / 'MANIFEST.json').is_file() and (installed / 'LICENSE').is_file()
    assert not (installed / 'tests').exists() and not (installed / 'molecule').exists()
    # From another directory: found by FQCN, in the installed copy; the hyphenated
    # runbook name is not (an FQCN holds no hyphen), its twin is.
    for playbook in ('quickbite.ops.healthcheck', 'quickbite.ops.rotate_jwt', 'quickbite.ops.backup_db'):
        run = subprocess.run(['ansible-playbook', playbook, '-i', 'localhost,', '--list-tasks'], cwd=str(elsewhere),
                             env=env, capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert 'play #1' in run.stdout, run.stdout
    run = subprocess.run(['ansible-playbook', 'quickbite.ops.rotate-jwt', '-i', 'localhost,', '--list-tasks'],
                         cwd=str(elsewhere), env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode != 0 and 'could not be found' in run.stdout + run.stderr
