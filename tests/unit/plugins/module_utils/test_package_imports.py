"""db/ and rotation/ both end with the backend's health check; it lives in
health/ (health/backend.py), so db/ never imports rotation/ (the package
cycle db <-> rotation, hidden by imports inside functions, is gone) and the
imports of the layers db/ uses sit at the top of its files."""
import io
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DB = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, os.pardir, os.pardir, 'plugins', 'module_utils', 'db'))
IMPORT = re.compile(r'^(\s*)from ansible_collections\.quickbite\.ops\.plugins\.module_utils\.(\w+)')


def _imports(package_dir):
    for name in sorted(os.listdir(package_dir)):
        if name.endswith('.py'):
            with io.open(os.path.join(package_dir, name), encoding='utf-8') as handle:
                for number, line in enumerate(handle, 1):
                    match = IMPORT.match(line)
                    if match:
                        yield '%s:%d' % (name, number), match.group(2), bool(match.group(1))


def test_db_never_imports_rotation():
    assert [where for where, package, _inner in _imports(DB) if package == 'rotation'] == []


def test_db_takes_health_and_ops_at_the_top_of_its_files():
    inner = [where for where, package, nested in _imports(DB) if nested and package in ('health', 'ops', 'rotation')]
    assert inner == []
    assert [p for _w, p, _n in _imports(DB) if p == 'health'], 'db/ ends restores and repairs with health/backend'
