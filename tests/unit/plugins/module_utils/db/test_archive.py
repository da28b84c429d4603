"""Backup directory logic: names, sidecars, formats, leftovers, retention."""
import datetime
import json
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.db import archive

UTC = datetime.timezone.utc


def _backup(directory, stamp, verified=None, ext='.dump.zst'):
    name = 'quickbite_%s%s' % (stamp, ext)
    path = os.path.join(str(directory), name)
    with open(path, 'wb') as handle:
        handle.write(b'PGDMP')
    when = datetime.datetime.strptime(stamp, '%Y%m%d_%H%M%S').replace(tzinfo=UTC)
    manifest = dict(started=when.isoformat(), verification=None if verified is None else dict(ok=verified))
    with open(path + archive.MANIFEST, 'w') as handle:
        json.dump(manifest, handle)
    return path


def test_names_follow_the_runbook_and_never_collide(tmp_path):
    now = datetime.datetime(2025, 1, 1, 12, 0, 0)
    assert archive.backup_name('quickbite', 'plain', 'gzip', now) == 'quickbite_20250101_120000.sql.gz'
    assert archive.backup_name('quickbite', 'custom', 'zstd', now) == 'quickbite_20250101_120000.dump.zst'
    first = archive.unique_path(str(tmp_path), 'quickbite_20250101_120000.dump.zst')
    open(first, 'w').close()
    assert archive.unique_path(str(tmp_path), 'quickbite_20250101_120000.dump.zst').endswith(
        'quickbite_20250101_120000_2.dump.zst')


def test_sidecar_round_trip_is_sha256sum_format():
    text = archive.sidecar_text([('a' * 64, 'x.dump.zst')])
    assert text == 'a' * 64 + '  x.dump.zst\n'
    assert archive.parse_sidecar(text + 'garbage\n') == [('a' * 64, 'x.dump.zst')]


def test_detect_format_from_first_bytes(tmp_path):
    cases = {b'\x1f\x8b\x08\x00': ('plain', 'gzip'), b'PGDMP\x01': ('custom', 'none'),
             b'--\n-- PostgreSQL': ('plain', 'none')}
    for index, (head, want) in enumerate(cases.items()):
        path = tmp_path / ('b%d' % index)
        path.write_bytes(head)
        assert archive.detect_format(str(path)) == want
    zst = tmp_path / 'quickbite_1.dump.zst'
    zst.write_bytes(b'\x28\xb5\x2f\xfd')
    assert archive.detect_format(str(zst)) == ('custom', 'zstd')


def test_listing_separates_leftovers(tmp_path):
    good = _backup(tmp_path, '20250101_020000')
    (tmp_path / 'quickbite_20250102_020000.dump.zst.partial').write_bytes(b'x')
    (tmp_path / 'quickbite_20250103_020000.dump.zst').write_bytes(b'x')  # renamed, manifest never written
    (tmp_path / 'other_20250101_020000.dump.zst').write_bytes(b'x')
    backups, leftovers = archive.list_backups(str(tmp_path), 'quickbite')
    assert [b['path'] for b in backups] == [good]
    assert sorted(os.path.basename(p) for p in leftovers) == ['quickbite_20250102_020000.dump.zst.partial',
                                                              'quickbite_20250103_020000.dump.zst']


def test_retention_by_count_and_age_keeps_newest_and_newest_verified(tmp_path):
    paths = [_backup(tmp_path, '202501%02d_020000' % day, verified=(day == 2)) for day in range(1, 8)]
    backups = archive.list_backups(str(tmp_path), 'quickbite')[0]
    now = datetime.datetime(2025, 1, 7, 3, 0, tzinfo=UTC)
    expired = [b['path'] for b in archive.select_expired(backups, 2, 0, now)]
    assert expired == [paths[0], paths[2], paths[3], paths[4]]  # day 2 is the newest verified
    expired = [b['path'] for b in archive.select_expired(backups, 0, 3, now)]
    assert expired == [paths[0], paths[2], paths[3]]  # days 1..4 are older than 3 days; day 2 verified
    expired = [b['path'] for b in archive.select_expired(backups, 5, 3, now)]
    assert expired == [paths[0]]  # a backup is kept when either rule keeps it
    assert archive.select_expired(backups, 0, 0, now) == []
    assert archive.select_expired(backups[-1:], 0, 0, now) == []


def test_remove_backup_takes_manifest_first(tmp_path):
    path = _backup(tmp_path, '20250101_020000')
    (tmp_path / ('quickbite_20250101_020000.dump.zst' + archive.SIDECAR)).write_text('x')
    archive.remove_backup(path)
    assert os.listdir(str(tmp_path)) == []


def test_retention_keeps_and_names_backups_whose_manifest_has_no_start_time(tmp_path):
    old = _backup(tmp_path, '20250101_020000')
    newest = _backup(tmp_path, '20250107_020000')
    odd = {}
    for stamp, manifest in (('20250102_020000', {}), ('20250103_020000', {'started': 'yesterday'}),
                            ('20250104_020000', {'started': 20250104}), ('20250105_020000', ['not', 'an', 'object'])):
        odd[stamp] = _backup(tmp_path, stamp)
        with open(odd[stamp] + archive.MANIFEST, 'w') as handle:
            json.dump(manifest, handle)
    backups = archive.list_backups(str(tmp_path), 'quickbite')[0]
    now = datetime.datetime(2025, 1, 7, 3, 0, tzinfo=UTC)
    for keep_last, keep_days in ((0, 1), (1, 0), (1, 1)):
        assert [b['path'] for b in archive.select_expired(backups, keep_last, keep_days, now)] == [old]
    lines = archive.undated(backups)
    assert sorted(line.split(': ')[0] for line in lines) == sorted(odd.values())
    assert all('so retention keeps it; fix the manifest or delete the backup by hand' in line for line in lines)
    assert newest not in ' '.join(lines)


@pytest.mark.parametrize('prefix', ['../x', 'a/b', '/abs', '.', '..', '', 'qb x', 'qb\nx'])
def test_a_prefix_that_is_not_a_plain_name_is_refused(prefix):
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
    with pytest.raises(ConfigError, match=r'backup_db_prefix .* \^\[A-Za-z0-9\._-\]\+\$'):
        archive.check_prefix(prefix)


def test_plain_prefixes_are_accepted():
    for prefix in ('quickbite', 'qb.nightly-2', '_x'):
        assert archive.check_prefix(prefix) == prefix
