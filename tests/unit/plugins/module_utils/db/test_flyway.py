import time
import zlib

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import flyway
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError


def _row(rank, version, description, success=True, checksum=None):
    script = 'V%s__%s.sql' % (version.replace('.', '_'), description.replace(' ', '_'))
    return dict(installed_rank=rank, version=version, description=description, type='SQL', script=script,
                checksum=checksum, installed_by='quickbite', installed_on='2026-11-29 08:30:00',
                execution_time=12, success=success)


def _write(directory, name, text):
    path = directory / name
    path.write_bytes(text.encode('utf-8'))
    return path


# --------------------------------------------------------------------------- versions
@pytest.mark.parametrize('newer, older', [('1.10', '1.9'), ('2', '1.99'), ('1.2.1', '1.2'), ('10', '9'), ('1_10', '1.9')])
def test_versions_compare_part_by_part_like_flyway(newer, older):
    assert flyway.version_key(newer) > flyway.version_key(older)


def test_trailing_zero_parts_are_the_same_version():
    assert flyway.version_key('1.0') == flyway.version_key('1') == flyway.version_key('1_0_0')


def test_sorting_and_unversioned_rows():
    versions = ['1.10', '1.9', '1.1', '2', '1.2.3']
    assert sorted(versions, key=flyway.version_key) == ['1.1', '1.2.3', '1.9', '1.10', '2']
    assert flyway.version_key(None) is None and flyway.version_key('1.a') is None


# --------------------------------------------------------------------------- files
def test_checksum_is_flyways_line_crc_signed():
    expected = zlib.crc32(b'SELECT 2;', zlib.crc32(b'SELECT 1;'))
    expected = expected - (1 << 32) if expected >= (1 << 31) else expected
    assert flyway.checksum(b'SELECT 1;\nSELECT 2;\n') == expected
    # Line terminators and a BOM do not count; a missing final newline does not either.
    assert flyway.checksum(b'\xef\xbb\xbfSELECT 1;\r\nSELECT 2;') == expected
    assert any(flyway.checksum(('x%d' % i).encode()) < 0 for i in range(20))  # signed, like Java's int


def test_scan_finds_versioned_files_recursively_in_version_order(tmp_path):
    _write(tmp_path, 'V1_10__later.sql', 'SELECT 1;\n')
    _write(tmp_path, 'V1_9__earlier.sql', 'SELECT 1;\n')
    _write(tmp_path, 'R__repeatable_view.sql', 'SELECT 1;\n')
    _write(tmp_path, 'README.md', 'not a migration\n')
    (tmp_path / 'sub').mkdir()
    _write(tmp_path / 'sub', 'V2__in_a_subdirectory.sql', 'SELECT 1;\n')
    files, problems = flyway.scan([str(tmp_path)])
    assert [(f['version'], f['description']) for f in files] == [
        ('1.9', 'earlier'), ('1.10', 'later'), ('2', 'in a subdirectory')]
    assert files[2]['path'] == str(tmp_path / 'sub' / 'V2__in_a_subdirectory.sql') and problems == []


def test_scan_reports_a_version_in_two_files(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    _write(tmp_path / 'a', 'V3__one.sql', 'SELECT 1;\n')
    _write(tmp_path / 'b', 'V3_0__other.sql', 'SELECT 1;\n')
    files, problems = flyway.scan([str(tmp_path / 'a'), str(tmp_path / 'b')])
    assert [f['script'] for f in files] == ['V3__one.sql']
    assert problems == ['version 3.0 is in more than one file: %s and %s (Flyway refuses to start)'
                        % (tmp_path / 'a' / 'V3__one.sql', tmp_path / 'b' / 'V3_0__other.sql')]


def test_scan_of_a_missing_directory_names_the_variable(tmp_path):
    with pytest.raises(ConfigError) as err:
        flyway.scan([str(tmp_path / 'nope')])
    assert 'flyway_repair_migrations_dir' in err.value.msg and str(tmp_path / 'nope') in err.value.msg


# --------------------------------------------------------------------------- analysis
def _files(tmp_path, names):
    for name in names:
        _write(tmp_path, name, 'SELECT 1; -- %s\n' % name)
    return flyway.scan([str(tmp_path)])[0]


def test_pending_without_files_is_unknown():
    analysis = flyway.analyze([_row(1, '1', 'a'), _row(2, '2', 'b', success=False)])
    assert analysis['pending'] is None and analysis['ignored'] is None
    assert [r['version'] for r in analysis['applied_rows']] == ['1'] and [r['version'] for r in analysis['failed_rows']] == ['2']
    assert analysis['newest_version'] == '1'


def test_pending_are_files_newer_than_the_newest_applied_version(tmp_path):
    files = _files(tmp_path, ['V1_9__a.sql', 'V1_10__b.sql', 'V1_11__c.sql', 'V2__d.sql', 'V1_2__never.sql'])
    by_version = dict((f['version'], f['checksum']) for f in files)
    rows = [_row(1, '1.9', 'a', checksum=by_version['1.9']), _row(2, '1.10', 'b', checksum=by_version['1.10']),
            _row(3, '1.11', 'c', success=False, checksum=by_version['1.11'])]
    analysis = flyway.analyze(rows, files)
    assert analysis['newest_version'] == '1.10'  # not '1.9', which sorts after it as a string
    assert [f['version'] for f in analysis['pending']] == ['1.11', '2']
    assert [f['version'] for f in analysis['ignored']] == ['1.2']
    assert analysis['mismatches'] == []


def test_empty_history_has_every_file_pending(tmp_path):
    files = _files(tmp_path, ['V1__a.sql', 'V2__b.sql'])
    assert [f['version'] for f in flyway.analyze([], files)['pending']] == ['1', '2']


def test_mismatches_missing_renamed_and_changed_files(tmp_path):
    files = _files(tmp_path, ['V1__a.sql', 'V2__renamed.sql', 'V3__c.sql'])
    by_version = dict((f['version'], f['checksum']) for f in files)
    rows = [_row(1, '1', 'a', checksum=by_version['1']), _row(2, '2', 'b', checksum=by_version['2']),
            _row(3, '3', 'c', checksum=by_version['3'] + 1), _row(4, '4', 'gone')]
    mismatches = flyway.analyze(rows, files, ['a duplicate'])['mismatches']
    assert mismatches == [
        'a duplicate',
        'version 2 was applied as V2__b.sql, the file is now V2__renamed.sql',
        'version 3 (V3__c.sql): checksum %d applied, %d in the file (changed after it was applied; Flyway validation '
        'fails)' % (by_version['3'] + 1, by_version['3']),
        'version 4 (V4__gone.sql) is applied but has no file in migrations_dir']


# --------------------------------------------------------------------------- report
def test_report_lines_read_like_the_runbooks_select(tmp_path):
    rows = [_row(1, '1', 'create users'), _row(2, '2', 'add loyalty points', success=False)]
    lines = flyway.report_lines('quickbite@db:5432/quickbite', rows, flyway.analyze(rows, _files(tmp_path, [
        'V1__create_users.sql', 'V2__add_loyalty_points.sql'])))
    assert lines[:5] == [
        'flyway_schema_history in quickbite@db:5432/quickbite: 2 row(s), 1 applied, 1 failed; newest applied version 1',
        ' version | description        | success',
        '---------+--------------------+---------',
        ' 1       | create users       | t',
        ' 2       | add loyalty points | f',
    ]
    assert lines[5:7] == ['failed: 2 (add loyalty points)', 'pending: 2 (add loyalty points), failed before']


def test_report_lines_say_pending_is_unknown():
    lines = flyway.report_lines('x', [], flyway.analyze([]))
    assert lines[0].endswith('0 row(s), 0 applied, 0 failed; newest applied version none')
    assert lines[-1].startswith('pending: unknown') and 'flyway_repair_migrations_dir' in lines[-1]


# --------------------------------------------------------------------------- procedure
class FakeTable(object):
    TABLE = 'flyway_schema_history'

    def __init__(self, rows, taken=()):
        self.rows, self.taken, self.repairs = rows, set(taken), []

    def read(self, target):
        return 'public', [dict(r) for r in self.rows]

    def free_name(self, target, schema, wanted):
        return wanted + '_2' if wanted in self.taken else wanted

    def repair(self, target, schema, backup, expected, comment):
        self.repairs.append((backup, [r['installed_rank'] for r in expected], comment))
        deleted = [r for r in self.rows if not r['success']]
        self.rows = [r for r in self.rows if r['success']]
        return len(self.rows) + len(deleted), deleted, list(self.rows)


class FakeTarget(object):
    dbname = 'quickbite'

    def describe(self):
        return 'quickbite@127.0.0.1:5432/quickbite'


def _clock():
    return time.strptime('2026-11-29 08:30:00', '%Y-%m-%d %H:%M:%S')


BACKUP = 'flyway_schema_history_backup_20261129_083000'


def _params(**extra):
    params = dict(state='repair', migrations_dir=[], restart=False, backend_url='http://x', validate_certs=True,
                  wait_timeout=30, confirm='quickbite')
    params.update(extra)
    return params


@pytest.fixture
def fake(monkeypatch):
    table = FakeTable([_row(1, '1', 'a'), _row(2, '2', 'b'), _row(3, '3', 'broken', success=False)])
    monkeypatch.setattr(flyway, 'table', table)
    return table


def test_check_mode_lists_the_rows_and_changes_nothing(fake):
    result = flyway.run(FakeTarget(), None, _params(restart=True), check_mode=True, clock=_clock)
    assert result['changed'] and [r['version'] for r in result['deleted']] == ['3'] and fake.repairs == []
    assert result['backup_table'] == BACKUP
    assert result['report_lines'][-2:] == [
        'would copy flyway_schema_history to %s and delete 1 failed row(s): 3 (broken)' % BACKUP,
        'would restart the backend and check its health']
    assert result['warnings'][0].startswith('the failed migration 3 (V3__broken.sql) is not undone')
    assert result['diff']['before'] != result['diff']['after'] and ' 3 ' not in result['diff']['after']


def test_report_state_never_repairs(fake):
    result = flyway.run(FakeTarget(), None, _params(state='report'), check_mode=False, clock=_clock)
    assert not result['changed'] and result['deleted'] == [] and fake.repairs == []
    assert 'flyway_repair_state=repair flyway_repair_confirm=quickbite' in result['report_lines'][-1]
    assert len(result['warnings']) == 1


def test_repair_backs_up_deletes_and_is_then_unchanged(fake):
    result = flyway.run(FakeTarget(), None, _params(), check_mode=False, clock=_clock)
    assert result['changed'] and fake.repairs[0][:2] == (BACKUP, [3])
    assert result['report_lines'][-2:] == [
        'copied 3 row(s) to %s; deleted 1 failed row(s): 3 (broken)' % BACKUP,
        'backend not restarted (restart=false): it retries the migration on its next start']
    again = flyway.run(FakeTarget(), None, _params(), check_mode=False, clock=_clock)
    assert not again['changed'] and again['report_lines'][-1] == 'no failed migration: nothing to repair'
    assert again['warnings'] == [] and len(fake.repairs) == 1


def test_backup_name_taken_in_the_same_second(monkeypatch):
    fake = FakeTable([_row(1, '1', 'x', success=False)], taken=[BACKUP])
    monkeypatch.setattr(flyway, 'table', fake)
    assert flyway.run(FakeTarget(), None, _params(), True, clock=_clock)['backup_table'] == BACKUP + '_2'


def test_unhealthy_backend_after_the_repair_fails_naming_the_backup(fake, monkeypatch):
    monkeypatch.setattr(flyway, '_restart_and_verify', lambda adapter, params: (
        dict(msg='done: restart backend'), [dict(check='health actuator', ok=False, evidence='HTTP 503')]))
    with pytest.raises(VerificationError) as err:
        flyway.run(FakeTarget(), None, _params(restart=True), check_mode=False, clock=_clock)
    assert 'repaired (backup in %s, deleted 3 (broken)), but after the restart health actuator failed; what the ' % BACKUP \
        in err.value.msg
    assert err.value.details['backup_table'] == BACKUP


@pytest.mark.parametrize('confirm', ['', None, 'True', 'quickbite_prod', ' quickbite'])
def test_repair_without_the_database_name_as_confirmation_is_refused(fake, confirm):
    with pytest.raises(ConfigError) as err:
        flyway.run(FakeTarget(), None, _params(confirm=confirm), check_mode=False, clock=_clock)
    assert err.value.msg.startswith('refusing to repair flyway_schema_history in database quickbite: it deletes 1 '
                                    'failed row(s) (3 (broken))')
    assert 'set flyway_repair_confirm (module option confirm) to quickbite' in err.value.msg
    assert err.value.msg.endswith('Nothing was changed.') and fake.repairs == []
    assert [r['success'] for r in fake.rows] == [True, True, False]


def test_check_mode_predicts_and_says_the_confirmation_is_missing(fake):
    result = flyway.run(FakeTarget(), None, _params(confirm=''), check_mode=True, clock=_clock)
    assert result['changed'] and [r['version'] for r in result['deleted']] == ['3'] and fake.repairs == []
    assert result['report_lines'][-1].startswith('a real run is refused without the confirmation: refusing to repair')
    assert result['warnings'][-1].startswith('refusing to repair flyway_schema_history in database quickbite')
