"""The database procedures on the Kubernetes path: libpq straight to a real
PostgreSQL 15 (QuickBite's database on a throw-away cluster, k8s_pg; as
through a port-forward), the connection settings from the Secret, and the
cluster steps (the backend scaled to 0 for the restore and back) on the
emulator. No reference stack: the module runs in the no-stack lane."""
import os

import pytest

from conftest import run_playbook
from dbtools import digest, psql
# Fixtures: k8s_db below builds on k8s_with_db, which takes quickbite_pg.
from k8s_pg import quickbite_pg  # noqa: F401 pylint: disable=unused-import
from test_rotate_k8s import k8s_with_db  # noqa: F401 pylint: disable=unused-import

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


@pytest.fixture
def k8s_db(k8s_with_db):
    """test_rotate_k8s's cluster whose Secret holds the throw-away database's settings."""
    yield k8s_with_db
    psql("DELETE FROM orders WHERE restaurant = 'K8s Restore Diner'", db='quickbite')


def _vars(k8s, tmp_path, **extra):
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                quickbite_db_host='127.0.0.1', quickbite_db_port=k8s.pg.port, quickbite_backup_dir=str(tmp_path / 'b'),
                quickbite_db_access='libpq')  # as through a port-forward; inventory/k8s runs them in the pod
    base.update(extra)
    return base


def _spec_replicas(k8s):
    return [spec for _when, _available, spec in k8s.emulator.availability_history('quickbite-backend')]


def test_backup_and_restore_on_kubernetes_scale_the_writers(k8s_db, tmp_path):
    k8s = k8s_db
    before = digest()
    run = run_playbook('backup_db.yml', inventory='inventory/k8s', extra=_vars(k8s, tmp_path, backup_db_verify=True),
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    assert run.result('verify_backup')['ok'] and os.path.dirname(path) == str(tmp_path / 'b')
    replicas = k8s.emulator.get('deployments', 'quickbite-backend')['spec']['replicas']
    psql("INSERT INTO orders (user_id, restaurant, total_amount) SELECT min(id), 'K8s Restore Diner', 3 FROM users",
         db='quickbite')
    k8s.emulator.clear_history()
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=path, restore_db_confirm='quickbite'))
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before
    seen = _spec_replicas(k8s)
    assert 0 in seen and seen[-1] == replicas, seen
    steps = run.result('pg_restore')['steps']
    assert any('stopped backend (%d replica' % replicas in s for s in steps)
    assert any('health check passed' in s for s in steps)


def test_refused_restore_on_kubernetes_leaves_the_cluster_alone(k8s_db, tmp_path):
    k8s = k8s_db
    run = run_playbook('backup_db.yml', inventory='inventory/k8s', extra=_vars(k8s, tmp_path), tmp_path=tmp_path)
    path = run.result('pg_backup')['path']
    k8s.emulator.clear_history()
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=path, restore_db_confirm='wrong'))
    assert run.rc != 0 and 'restore_db_confirm' in run.output
    assert 0 not in _spec_replicas(k8s)
