# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changelog is antsibull-changelog's (issue 16 item 5): the fragments lint
clean, and CHANGELOG.md's unreleased section holds no entry of its own (an entry
written there would be lost at the release: it belongs in a fragment,
docs/development.md "Changelog")."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_antsibull_changelog_lint_is_clean():
    # The project's venv has it (requirements.txt); the version matrix's venvs do not.
    candidates = [os.path.join(os.path.dirname(sys.executable), 'antsibull-changelog'),
                  os.path.join(ROOT, '.venv', 'bin', 'antsibull-changelog')]
    tool = next((path for path in candidates if os.path.exists(path)), None)
    if tool is None:
        pytest.skip('antsibull-changelog is not installed (requirements.txt)')
    proc = subprocess.run([tool, 'lint'], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
    assert os.listdir(os.path.join(ROOT, 'changelogs', 'fragments'))


def test_changelog_md_unreleased_section_holds_no_entries():
    with open(os.path.join(ROOT, 'CHANGELOG.md'), encoding='utf-8') as f:
        text = f.read()
    section = re.search(r'^## \S+ \(unreleased\)\n(.*?)(?=^## |\Z)', text, re.M | re.S)
    entries = [line for line in (section.group(1) if section else '').splitlines() if line.startswith('- ')]
    assert not entries, ('CHANGELOG.md: move these entries into changelogs/fragments/<name>.yml '
                         '(docs/development.md, "Changelog"): %s' % [e[:80] for e in entries])
