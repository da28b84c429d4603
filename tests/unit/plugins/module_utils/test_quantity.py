from decimal import Decimal

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import quantity
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError


def test_parse_units():
    assert quantity.parse('500m', 'x') == Decimal('0.5')
    assert quantity.parse('2', 'x') == 2
    assert quantity.parse('1Gi', 'x') == 2 ** 30
    assert quantity.parse('1.5G', 'x') == Decimal('1.5') * 10 ** 9


@pytest.mark.parametrize('value', ['', 'lots', '1GB', '-1', '0', '1 Gi'])
def test_bad_quantities_are_named(value):
    with pytest.raises(ConfigError, match='scale_resources.requests.cpu'):
        quantity.validate_resources({'requests': {'cpu': value}}, 'scale_resources')


def test_requests_above_limits_and_unknown_keys():
    with pytest.raises(ConfigError, match='requests.memory 2Gi is above limits.memory 1Gi'):
        quantity.validate_resources({'requests': {'memory': '2Gi'}, 'limits': {'memory': '1Gi'}}, 'scale_resources')
    with pytest.raises(ConfigError, match='unknown resource gpu'):
        quantity.validate_resources({'limits': {'gpu': '1'}}, 'scale_resources')
    with pytest.raises(ConfigError, match='milli-bytes'):
        quantity.validate_resources({'limits': {'memory': '512m'}}, 'scale_resources')
    with pytest.raises(ConfigError, match='unknown key'):
        quantity.validate_resources({'request': {}}, 'scale_resources')


def test_same_compares_numerically():
    assert quantity.same({'requests': {'cpu': '0.5', 'memory': '1024Mi'}}, {'requests': {'cpu': '500m', 'memory': '1Gi'}})
    assert not quantity.same({'requests': {'cpu': '0.5'}}, {'requests': {'cpu': '1'}})
    assert not quantity.same({}, {'limits': {'cpu': '1'}})


@pytest.mark.parametrize('resources, message', [
    ({'requests': 'abc'}, "scale_resources.requests: 'abc' is not a mapping of cpu and memory; write it as "
     "requests: {cpu: 500m, memory: 1Gi}"),
    ({'limits': ['1']}, "scale_resources.limits: ['1'] is not a mapping"),
    ('abc', "scale_resources: 'abc' is not a mapping; write it as {requests:"),
    ({'requests': {}}, 'scale_resources: neither requests nor limits is set'),
    ({1: {}}, 'scale_resources: unknown key(s) 1; use requests and limits'),
])
def test_malformed_resources_are_named_not_a_traceback(resources, message):
    with pytest.raises(ConfigError) as err:
        quantity.validate_resources(resources, 'scale_resources')
    assert message in err.value.msg
