"""Every module's main() against its case table (test_<module>.yaml beside
this file; see _harness.py for the keys), as community.general drives
test_xfconf.yaml."""
import glob
import importlib
import os

import pytest

from tests.unit.plugins.modules import _harness

PACKAGE = 'ansible_collections.quickbite.ops.plugins.modules.'
TABLES = sorted(os.path.basename(path)[len('test_'):-len('.yaml')]
                for path in glob.glob(os.path.join(_harness.HERE, 'test_*.yaml')))
CASES = [pytest.param(name, case.values[0], id='%s-%s' % (name, case.id), marks=case.marks)
         for name in TABLES for case in _harness.load_cases(name)]


def test_every_module_has_a_case_table():
    modules = os.path.join(_harness.HERE, '..', '..', '..', '..', 'plugins', 'modules')
    names = sorted(name[:-3] for name in os.listdir(modules) if name.endswith('.py') and name != '__init__.py')
    assert TABLES == names


@pytest.mark.parametrize('name, case', CASES)
def test_module_case(name, case, tmp_path, monkeypatch):
    module = importlib.import_module(PACKAGE + name)  # before World patches what it imported
    world = _harness.World(case, str(tmp_path), monkeypatch)
    printed, result = world.run(module)
    _harness.check(world, printed, result)
