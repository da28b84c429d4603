# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Searching collected log lines: the runbook's ``grep -i "error\\|exception"``
with context, as plain data. No platform, no I/O.

A match is ``{source, line_number, line, context_before, context_after}``
(line numbers start at 1 within their source). For display, the matches of a
source are merged into windows the way ``grep -C`` does: overlapping or
touching windows become one block, blocks are separated by ``--``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

DEFAULT_PATTERN = 'error|exception'


def compile_pattern(pattern, ignore_case=True):
    """The compiled regex, or None for an empty pattern (collect only)."""
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ConfigError('pattern %r (logs_pattern) is not a valid regular expression: %s; '
                          'use Python regular expression syntax, e.g. %r' % (pattern, exc, DEFAULT_PATTERN))


def find_matches(lines, regex, context=3, source=None):
    """Every line ``regex`` matches, with up to ``context`` lines either side."""
    if regex is None:
        return []
    context = max(int(context), 0)
    found = []
    for index, line in enumerate(lines):
        if regex.search(line):
            found.append(dict(source=source, line_number=index + 1, line=line,
                              context_before=list(lines[max(index - context, 0):index]),
                              context_after=list(lines[index + 1:index + 1 + context])))
    return found


def merge_windows(line_numbers, total, context=3):
    """``grep -C`` windows: [(first, last)] 1-based and inclusive, one per block."""
    windows = []
    for number in sorted(set(line_numbers)):
        first, last = max(number - context, 1), min(number + context, total)
        if windows and first <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], max(windows[-1][1], last))
        else:
            windows.append((first, last))
    return windows


def format_blocks(lines, line_numbers, context=3, width=None):
    """grep -n -C style text: ``42:matching``, ``41-context``, ``--`` between blocks."""
    wanted = set(line_numbers)
    out = []
    for first, last in merge_windows(wanted, len(lines), context):
        if out:
            out.append('--')
        for number in range(first, last + 1):
            text = lines[number - 1]
            if width and len(text) > width:
                text = text[:width] + '...'
            out.append('%d%s%s' % (number, ':' if number in wanted else '-', text))
    return out


def select_fairly(per_source, limit):
    """At most ``limit`` matches overall, taken in turn from each source so one
    noisy pod cannot hide the only error of another; original order kept."""
    if limit is None:
        return [m for matches in per_source for m in matches]
    chosen = [[] for matches in per_source]
    taken, depth = 0, 0
    while taken < limit:
        progressed = False
        for index, matches in enumerate(per_source):
            if depth < len(matches) and taken < limit:
                chosen[index].append(matches[depth])
                taken += 1
                progressed = True
        if not progressed:
            break
        depth += 1
    return [m for matches in chosen for m in matches]


def search_sources(sources, regex, context=3, max_matches=None):
    """Search every ``{source, lines}`` entry.

    Returns ``{counts, line_numbers, matches, total, truncated}``: ``counts``
    and ``line_numbers`` (one entry per source) cover every match, the cap
    only limits ``matches``.
    """
    per_source = [find_matches(entry['lines'], regex, context, entry['source']) for entry in sources]
    counts = [len(matches) for matches in per_source]
    total = sum(counts)
    matches = select_fairly(per_source, max_matches)
    return dict(counts=counts, line_numbers=[[m['line_number'] for m in found] for found in per_source],
                matches=matches, total=total, truncated=len(matches) < total)
