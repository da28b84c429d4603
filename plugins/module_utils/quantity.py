# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities ("500m", "1Gi", "2"): validate and compare
before anything is sent to the API."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from decimal import Decimal

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

_QUANTITY = re.compile(r'^(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?P<suffix>m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$')
_FACTORS = {
    None: 1, 'm': Decimal('0.001'), 'k': 10 ** 3, 'M': 10 ** 6, 'G': 10 ** 9, 'T': 10 ** 12, 'P': 10 ** 15,
    'E': 10 ** 18, 'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
}


def parse(value, what):
    """Decimal value of a quantity; ``what`` names the variable in errors."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ConfigError('%s: %r is not a Kubernetes quantity; use forms such as 500m or 2 (cpu), '
                          '512Mi or 2Gi (memory)' % (what, value))
    number = Decimal(match.group('number')) * _FACTORS[match.group('suffix')]
    if number <= 0:
        raise ConfigError('%s must be more than zero, got %s' % (what, value))
    return number


def validate_resources(resources, variable):
    """{requests: {cpu, memory}, limits: {cpu, memory}}: every value a valid
    quantity, memory without milli-units, requests not above limits."""
    example = '{requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: "2", memory: 2Gi}}'
    if not isinstance(resources, dict):
        raise ConfigError('%s: %r is not a mapping; write it as %s' % (variable, resources, example))
    unknown = set(resources) - set(['requests', 'limits'])
    if unknown:
        raise ConfigError('%s: unknown key(s) %s; use requests and limits' % (variable, ', '.join(sorted(map(str, unknown)))))
    if not resources.get('requests') and not resources.get('limits'):
        raise ConfigError('%s: neither requests nor limits is set; write it as %s' % (variable, example))
    parsed = {}
    for kind in ('requests', 'limits'):
        values = resources.get(kind) or {}
        if not isinstance(values, dict):
            raise ConfigError('%s.%s: %r is not a mapping of cpu and memory; write it as %s: {cpu: 500m, memory: 1Gi}'
                              % (variable, kind, values, kind))
        for name, value in values.items():
            if name not in ('cpu', 'memory'):
                raise ConfigError('%s.%s: unknown resource %s; use cpu and memory' % (variable, kind, name))
            if name == 'memory' and str(value).strip().endswith('m'):
                raise ConfigError('%s.%s.memory: %s means milli-bytes; write Mi (mebibytes)' % (variable, kind, value))
            parsed[(kind, name)] = parse(value, '%s.%s.%s' % (variable, kind, name))
    for name in ('cpu', 'memory'):
        if ('requests', name) in parsed and ('limits', name) in parsed and \
                parsed[('requests', name)] > parsed[('limits', name)]:
            raise ConfigError('%s: requests.%s %s is above limits.%s %s' % (
                variable, name, resources['requests'][name], name, resources['limits'][name]))
    return parsed


def same(current, wanted):
    """True when every wanted quantity equals the current one numerically."""
    for kind, values in wanted.items():
        for name, value in (values or {}).items():
            have = ((current or {}).get(kind) or {}).get(name)
            if have is None or parse(have, name) != parse(value, name):
                return False
    return True
