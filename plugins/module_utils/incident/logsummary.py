# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error summary of collected log lines: one entry per distinct message
(timestamps, thread names, numbers and IDs taken out), with its count and the
first and last time it was seen, most frequent first."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

ERROR_LINE = re.compile(r'\b(ERROR|FATAL|CRITICAL|SEVERE|PANIC|Traceback)\b|\w+(Exception|Error)\b|level=error')
TIMESTAMP = re.compile(r'(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)')
_BRACKETS = re.compile(r'\[[^\]]*\]')
_HEX = re.compile(r'\b(?:0x)?[0-9a-f]{8,}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', re.I)
_NUMBER = re.compile(r'\d+')
_SPACES = re.compile(r'\s+')
MESSAGE_CHARS = 200


def message_key(line):
    """The line as a distinct message: what differs between repeats removed."""
    text = TIMESTAMP.sub('', line, count=1)
    text = _BRACKETS.sub('', text)
    text = _HEX.sub('#', text)
    text = _NUMBER.sub('#', text)
    return _SPACES.sub(' ', text).strip()[:MESSAGE_CHARS]


def summarize(sources, limit=20):
    """``sources``: [(service, lines)]. Returns (error lines counted, [{service,
    message, count, first, last, example}]) with at most ``limit`` entries."""
    found = {}
    total = 0
    for service, lines in sources:
        for line in lines:
            if not ERROR_LINE.search(line):
                continue
            total += 1
            stamp = TIMESTAMP.search(line)
            stamp = stamp.group(1) if stamp else None
            key = (service, message_key(line))
            entry = found.get(key)
            if entry is None:
                found[key] = dict(service=service, message=key[1], count=1, first=stamp, last=stamp,
                                  example=line[:MESSAGE_CHARS * 2])
            else:
                entry['count'] += 1
                entry['last'] = stamp or entry['last']
                entry['first'] = entry['first'] or stamp
    ordered = sorted(found.values(), key=lambda e: (-e['count'], e['service'], e['message']))
    return total, ordered[:limit]
