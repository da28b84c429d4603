import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.logs import search


def _lines(*matching, total=20):
    return ['ERROR %d' % n if n in matching else 'ok %d' % n for n in range(1, total + 1)]


def test_default_pattern_is_case_insensitive():
    regex = search.compile_pattern(search.DEFAULT_PATTERN)
    lines = ['INFO fine', 'ERROR boom', 'java.lang.IllegalStateException: x', 'error lower', 'Errors: 0 Exceptional']
    assert [m['line_number'] for m in search.find_matches(lines, regex, 0)] == [2, 3, 4, 5]


def test_case_sensitive_when_asked():
    regex = search.compile_pattern('ERROR', ignore_case=False)
    assert [m['line'] for m in search.find_matches(['ERROR a', 'error b', 'Error c'], regex, 0)] == ['ERROR a']


def test_context_before_and_after_are_clipped_at_the_edges():
    matches = search.find_matches(_lines(1, 10, 20), search.compile_pattern('error'), 3, source='pod-a')
    assert [(m['line_number'], m['source']) for m in matches] == [(1, 'pod-a'), (10, 'pod-a'), (20, 'pod-a')]
    first, middle, last = matches
    assert first['context_before'] == [] and first['context_after'] == ['ok 2', 'ok 3', 'ok 4']
    assert middle['context_before'] == ['ok 7', 'ok 8', 'ok 9'] and middle['context_after'] == ['ok 11', 'ok 12', 'ok 13']
    assert last['context_before'] == ['ok 17', 'ok 18', 'ok 19'] and last['context_after'] == []


def test_zero_context():
    match = search.find_matches(_lines(5), search.compile_pattern('error'), 0)[0]
    assert match['context_before'] == [] and match['context_after'] == []


def test_windows_merge_when_overlapping_or_touching_like_grep():
    # 5 and 9 with -C 2: [3-7] and [7-11] overlap; 14 starts at 12, touching 11: one block.
    assert search.merge_windows([5, 9, 14], 20, 2) == [(3, 16)]
    # A gap of one line or more keeps blocks apart.
    assert search.merge_windows([2, 10], 20, 2) == [(1, 4), (8, 12)]
    assert search.merge_windows([10, 2, 2], 20, 0) == [(2, 2), (10, 10)]
    assert search.merge_windows([19], 20, 3) == [(16, 20)]
    assert search.merge_windows([], 20, 3) == []


def test_format_blocks_is_grep_n_C():
    lines = _lines(3, 5, 12)
    assert search.format_blocks(lines, [3, 5, 12], 1) == [
        '2-ok 2', '3:ERROR 3', '4-ok 4', '5:ERROR 5', '6-ok 6', '--', '11-ok 11', '12:ERROR 12', '13-ok 13']


def test_format_blocks_shortens_long_lines():
    assert search.format_blocks(['x' * 50], [1], 0, width=10) == ['1:' + 'x' * 10 + '...']


def test_counts_per_source_and_total():
    sources = [dict(source='a', lines=_lines(1, 2, 3)), dict(source='b', lines=_lines()),
               dict(source='c', lines=_lines(20))]
    found = search.search_sources(sources, search.compile_pattern('error'), 1)
    assert found['counts'] == [3, 0, 1] and found['total'] == 4 and not found['truncated']
    assert found['line_numbers'] == [[1, 2, 3], [], [20]]
    assert [(m['source'], m['line_number']) for m in found['matches']] == [('a', 1), ('a', 2), ('a', 3), ('c', 20)]


def test_cap_is_shared_fairly_and_counts_stay_complete():
    noisy = dict(source='noisy', lines=_lines(*range(1, 21)))
    quiet = dict(source='quiet', lines=_lines(7))
    found = search.search_sources([noisy, quiet], search.compile_pattern('error'), 0, max_matches=3)
    assert found['truncated'] and found['total'] == 21 and found['counts'] == [20, 1]
    assert found['line_numbers'][0] == list(range(1, 21))
    # The quiet pod's only error is kept although the noisy one comes first.
    assert [(m['source'], m['line_number']) for m in found['matches']] == [('noisy', 1), ('noisy', 2), ('quiet', 7)]


def test_cap_zero_returns_no_blocks_but_counts():
    found = search.search_sources([dict(source='a', lines=_lines(1))], search.compile_pattern('error'), 0, 0)
    assert found['matches'] == [] and found['total'] == 1 and found['truncated']


def test_empty_pattern_only_collects():
    assert search.compile_pattern('') is None
    found = search.search_sources([dict(source='a', lines=_lines(1))], None, 3, 10)
    assert found == dict(counts=[0], line_numbers=[[]], matches=[], total=0, truncated=False)


@pytest.mark.parametrize('pattern', ['error(', '[a-', '*oops'])
def test_bad_regex_names_the_variable(pattern):
    with pytest.raises(ConfigError) as info:
        search.compile_pattern(pattern)
    assert 'logs_pattern' in info.value.msg and 'not a valid regular expression' in info.value.msg
    assert repr(pattern) in info.value.msg
