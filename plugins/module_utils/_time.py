# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Times as the Docker Engine, Kubernetes and its client write them, as
seconds since the epoch: one parser for every caller."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import re
import time

# Date, 'T' or a space (str() of a datetime), time, any fraction (Docker writes
# nanoseconds), then Z, an offset, or nothing (UTC).
_STAMP = re.compile(r'^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?')


def epoch(value):
    """Seconds since the epoch of ``value`` (a datetime, or a string as above),
    or None when it is empty or not a time."""
    if value is None or value == '':
        return None
    if hasattr(value, 'timestamp'):
        return value.timestamp()
    match = _STAMP.match(str(value))
    if not match:
        return None
    try:
        seconds = calendar.timegm(time.strptime('%sT%s' % match.group(1, 2), '%Y-%m-%dT%H:%M:%S'))
    except ValueError:
        return None
    seconds += float(match.group(3) or 0)
    zone = match.group(4)
    if zone and zone != 'Z':
        digits = zone[1:].replace(':', '')
        seconds -= (1 if zone[0] == '+' else -1) * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds
