"""Derived database names within PostgreSQL's 63 bytes: the base is
shortened, never the suffix, never inside a character, and a derived name
equal (after truncation) to the live one or to another is refused."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db.names import (
    check_distinct, derived_name, pg_name, swap_names)
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

STAMP = '20260101_120000'


def test_a_63_byte_name_keeps_its_suffix_and_differs_from_the_live_one():
    live = 'q' * 63
    names = swap_names(live, STAMP)
    for name in names.values():
        assert len(name.encode('utf-8')) <= 63 and pg_name(name) == name and name != live
    assert names['restored database'].endswith('_restore_' + STAMP)
    assert names['kept pre-restore database'].endswith('_pre_restore_' + STAMP)


def test_multibyte_base_is_never_cut_inside_a_character():
    live = 'é' * 31 + 'x'  # 63 bytes
    name = derived_name(live, '_restore_' + STAMP)
    assert len(name.encode('utf-8')) <= 63
    assert name.encode('utf-8').decode('utf-8') == name and name.startswith('é')
    assert pg_name('é' * 40) == 'é' * 31  # 62 bytes: the 32nd character would need 64


def test_short_names_are_left_whole():
    assert derived_name('quickbite', '_restore_' + STAMP) == 'quickbite_restore_' + STAMP


def test_a_name_equal_to_the_live_one_after_truncation_is_refused():
    live = 'a' * 63
    with pytest.raises(ConfigError) as err:
        check_distinct(live, {'restored database': live + '_restore_' + STAMP})
    assert 'the live database' in err.value.msg and 'nothing was touched' in err.value.msg


def test_two_derived_names_that_collide_are_refused():
    with pytest.raises(ConfigError) as err:
        check_distinct('live', {'one': 'b' * 70, 'two': 'b' * 64})
    assert 'the one' in err.value.msg or 'the two' in err.value.msg
