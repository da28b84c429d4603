"""Comparing a restored database with the manifest of its backup."""
from ansible_collections.quickbite.ops.plugins.module_utils.db import loading


def _failed(checks):
    return [c for c in checks if not c[1]]


def test_matching_database_passes():
    manifest = dict(flyway_version='4', tables=dict(orders=5, users=3))
    assert not _failed(loading.compare(manifest, dict(orders=5, users=3), '4', 0))


def test_mismatches_are_named_with_both_numbers():
    manifest = dict(flyway_version='4', tables=dict(orders=5, users=3))
    checks = loading.compare(manifest, dict(orders=4, users=3, extra=1), '3', 1)
    text = ' '.join(c[2] for c in _failed(checks))
    assert 'orders: 4 restored, 5 at backup' in text and 'extra' in text
    assert 'restored 3, manifest 4' in text and '1 failed row' in text


def test_backup_without_manifest_checks_flyway_only():
    checks = loading.compare(None, dict(orders=1), '4', 0)
    assert not _failed(checks) and 'row counts not compared' in checks[-1][2]
