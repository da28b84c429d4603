# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README is the on-call index and docs/procedures/ the manual: every
playbook, role and module is in the README's runbook table, every role has
its page, every role variable is on that page, and every relative link in
README.md and docs/ resolves (file and heading)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, 'README.md')
PROCEDURES = os.path.join(ROOT, 'docs', 'procedures')
# Procedures: roles with tasks (role quickbite holds shared defaults only; docs/inventory.md says what).
ROLES = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks')))
PLAYBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py'))
                 if not os.path.basename(p).startswith('_'))
MARKDOWN = [README] + sorted(glob.glob(os.path.join(ROOT, 'docs', '**', '*.md'), recursive=True))
LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)\)')


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def _without_code(text):
    """The text outside fenced code blocks and inline code spans."""
    text = re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)
    return re.sub(r'`[^`\n]*`', '', text)


def _runbook_table():
    """The rows of the table under README's '## Runbook procedures'."""
    text = _read(README)
    match = re.search(r'^## Runbook procedures\n(.*?)(?=^## )', text, re.M | re.S)
    assert match, 'README.md has no "## Runbook procedures" section'
    rows = [line for line in match.group(1).splitlines() if line.startswith('|')]
    assert len(rows) > 2, 'README.md: the runbook procedures section has no table'
    return '\n'.join(rows)


def _anchors(path):
    """GitHub's heading anchors of a Markdown file."""
    text = re.sub(r'^```.*?^```', '', _read(path), flags=re.M | re.S)
    anchors = set()
    for heading in re.findall(r'^#{1,6}\s+(.*?)\s*#*\s*$', text, re.M):
        slug = re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')
        anchors.add(slug)
    return anchors


def test_the_lists_are_found():
    assert len(ROLES) >= 13 and len(PLAYBOOKS) >= 15 and len(MODULES) >= 13


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_every_playbook_is_in_the_readme_table(playbook):
    assert 'playbooks/%s' % playbook in _runbook_table() or '`%s`' % playbook in _runbook_table(), (
        'playbooks/%s is not in the runbook table of README.md: add it to its procedure\'s row' % playbook)


@pytest.mark.parametrize('module', MODULES)
def test_every_module_is_mapped_in_the_readme_table(module):
    assert re.search(r'\b%s\b' % re.escape(module), _runbook_table()), (
        'module %s is not in the runbook table of README.md, which maps roles to their modules' % module)


@pytest.mark.parametrize('role', ROLES)
def test_every_role_has_a_page_linked_from_the_readme_table(role):
    page = os.path.join(PROCEDURES, '%s.md' % role)
    assert os.path.isfile(page), 'role %s has no page docs/procedures/%s.md' % (role, role)
    assert '(docs/procedures/%s.md)' % role in _runbook_table(), (
        'the runbook table of README.md does not link docs/procedures/%s.md' % role)
    assert re.search(r'`%s`' % re.escape(role), _runbook_table()), (
        'role %s is not named in the runbook table of README.md' % role)


@pytest.mark.parametrize('role', ROLES)
def test_every_role_variable_is_on_its_page(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml'), encoding='utf-8') as f:
        options = yaml.safe_load(f)['argument_specs']['main'].get('options') or {}
    page = _read(os.path.join(PROCEDURES, '%s.md' % role))
    missing = [name for name in options if '`%s`' % name not in page]
    assert not missing, ('docs/procedures/%s.md does not document %s (from roles/%s/meta/argument_specs.yml)'
                         % (role, ', '.join(missing), role))


@pytest.mark.parametrize('path', MARKDOWN, ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(path):
    broken = []
    for target in LINK.findall(_without_code(_read(path))):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target):
            continue  # http(s), mailto: not checked here
        file_part, anchor = (target.split('#', 1) + [''])[:2]
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            broken.append('%s (no such file)' % target)
        elif anchor and dest.endswith('.md') and anchor not in _anchors(dest):
            broken.append('%s (no heading #%s in %s)' % (target, anchor, os.path.relpath(dest, ROOT)))
    assert not broken, '%s: broken links: %s' % (os.path.relpath(path, ROOT), '; '.join(broken))
