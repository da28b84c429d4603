"""quickbite_db_access=exec on Kubernetes: pg_dump, pg_restore and psql run in
the postgres pod through the API server's exec (WebSockets, v5.channel.k8s.io).

The emulator's pod exec is backed by this host's PostgreSQL 15 programs run as
the postgres OS user beside a throw-away cluster holding QuickBite's database
(k8s_pg, pgcluster: peer authentication over its socket, as in the reference
stack's container), so the module needs no stack and runs in the no-stack
lane; a wrong password and an unreachable db_host prove libpq on the host is
not used. The first tests exec through the adapter into a pod backed by this
host's programs."""
import hashlib
import os
import subprocess
import tempfile
import time

import pytest

from conftest import run_playbook
from dbtools import databases, digest, drop_db, psql
from k8s_emulator import EmulatorThread
from k8s_defaults import emulator
from k8s_pg import quickbite_pg  # noqa: F401 pylint: disable=unused-import
from test_rotate_k8s import SEED, PodsBackend

from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Pipeline, PipelineError, Stage
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter

pytestmark = [pytest.mark.integration, pytest.mark.k8s]

BIG = 'quickbite_exec_big'


def _adapter(cluster):
    return KubernetesAdapter(None, dict(namespace='quickbite', secret_name='quickbite-secrets', context=None,
                                        kubeconfig=str(cluster.kubeconfig), deployments={}))


@pytest.fixture
def local_pod(tmp_path_factory):
    """The postgres pod's exec runs on this host; the adapter has the Role's token."""
    with emulator(tmp_path_factory, pod_start_delay=0.1, exec_backends={'postgres': []}) as cluster:
        yield cluster


def test_pipeline_stage_in_the_pod_streams_binary_both_ways(local_pod, tmp_path):
    """A file into ``cat`` in the pod, its stdout into sha256sum here: what a restore
    (file -> pod) and a backup (pod -> local zstd) do, in one pipeline."""
    data = os.urandom(8 << 20)
    source = tmp_path / 'source'
    source.write_bytes(data)
    spawn = _adapter(local_pod).exec_spawn('postgres', user='postgres')
    pipe = Pipeline([Stage(['cat'], spawn=spawn), Stage(['sha256sum'])], source=str(source))
    with tempfile.TemporaryFile() as out:
        size, _sha = pipe.relay_to(out.fileno())
        pipe.wait()
        out.seek(0)
        assert out.read().split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert [s['exit'] for s in pipe.report()] == [0, 0]
    assert local_pod.emulator.exec_log[-1][2] == ['cat']


def test_a_failing_stage_in_the_pod_reports_its_exit_code_and_stderr(local_pod):
    spawn = _adapter(local_pod).exec_spawn('postgres')
    pipe = Pipeline([Stage(['sh', '-c', 'echo "pg_dump: error: connection failed" >&2; exit 1'], spawn=spawn,
                           label='pg_dump')])
    with tempfile.TemporaryFile() as out:
        pipe.relay_to(out.fileno())
    with pytest.raises(PipelineError) as info:
        pipe.wait()
    assert 'pg_dump failed (exit 1): pg_dump: error: connection failed' in info.value.msg


def test_no_ready_pod_is_a_clear_error(local_pod):
    local_pod.emulator.set_crashloop('postgres', True)
    adapter = _adapter(local_pod)
    deadline = time.time() + 10
    while time.time() < deadline and adapter.services(['postgres'])[0]['ok']:
        time.sleep(0.1)
    with pytest.raises(PlatformError) as info:
        adapter.exec_spawn('postgres')
    assert 'no Running and Ready pod of deployment postgres in namespace quickbite' in info.value.msg


def test_an_api_server_without_v5_is_refused_before_anything_runs(tmp_path):
    """v4.channel.k8s.io cannot end a command's stdin (psql, pg_restore would wait
    forever): the backup stops at its first SQL session, says what to do, writes nothing."""
    with EmulatorThread(pod_start_delay=0.1, exec_backends={'postgres': []},
                        exec_protocols=('v4.channel.k8s.io',)) as cluster:
        kubeconfig = str(cluster.write_kubeconfig(tmp_path / 'kubeconfig'))
        run = run_playbook('backup_db.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=dict(
            quickbite_k8s_kubeconfig=kubeconfig, quickbite_db_access='exec', quickbite_db_host='192.0.2.1',
            quickbite_backup_dir=str(tmp_path / 'b')))
        assert run.rc != 0
        assert 'speaks v4.channel.k8s.io, which cannot close a command\'s stdin' in run.output, run.output[-3000:]
        # the protocol shows once the first command (the snapshot's psql) is started: it is dropped at once
        assert [argv[0] for _pod, _container, argv, _protocol in cluster.emulator.exec_log] == ['psql']
    directory = str(tmp_path / 'b')
    assert not os.path.isdir(directory) or not [n for n in os.listdir(directory) if n.startswith('quickbite_')]


# --------------------------------------------------------------------------- the real database


@pytest.fixture
def k8s_exec(tmp_path_factory, quickbite_pg):
    env = quickbite_pg.env
    seed = dict(SEED, DB_PASSWORD=env['DB_PASSWORD'], POSTGRES_PASSWORD=env['POSTGRES_PASSWORD'],
                DB_USER=env['DB_USER'], DB_NAME=env['DB_NAME'])
    with emulator(tmp_path_factory, secrets=seed, pod_start_delay=0.1,
                  exec_backends={'postgres': quickbite_pg.exec_prefix}) as cluster:  # the playbooks run with the Role's token
        cluster.backend = PodsBackend(cluster.emulator)
        cluster.pg = quickbite_pg
        yield cluster
        cluster.backend.close()
    psql("DELETE FROM orders WHERE restaurant = 'K8s Exec Diner'", db='quickbite')
    for name in databases():
        if name.startswith('quickbite_pre_restore_') or name.startswith('quickbite_restore_') or name == BIG:
            drop_db(name)


def _vars(k8s, tmp_path, **extra):
    """Exec access; libpq on the host would fail: wrong passwords, an unreachable host."""
    base = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, quickbite_backend_url=k8s.backend.url,
                quickbite_db_access='exec', quickbite_db_password='wrong', quickbite_db_admin_password='wrong',
                quickbite_db_host='192.0.2.1', quickbite_db_port=k8s.pg.port, quickbite_backup_dir=str(tmp_path / 'b'))
    base.update(extra)
    return base


def _programs(k8s):
    """What ran in which pod, from the emulator's exec log."""
    return set((pod.split('-')[0], argv[0]) for pod, _container, argv, _protocol in k8s.emulator.exec_log)


def _change_data():
    psql("INSERT INTO orders (user_id, restaurant, total_amount) SELECT min(id), 'K8s Exec Diner', 7 FROM users",
         db='quickbite')


def test_backup_verify_and_restore_through_pod_exec(k8s_exec, tmp_path):
    k8s = k8s_exec
    before = digest()
    run = run_playbook('backup_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, backup_db_verify=True))
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    assert run.result('verify_backup')['ok']
    # The default plain format is dumped by pg_dump and loaded by psql (custom archives would use pg_restore).
    assert {('postgres', 'pg_dump'), ('postgres', 'psql')} <= _programs(k8s)
    assert set(protocol for _p, _c, _a, protocol in k8s.emulator.exec_log) == {'v5.channel.k8s.io'}

    _change_data()
    replicas = k8s.emulator.get('deployments', 'quickbite-backend')['spec']['replicas']
    k8s.emulator.clear_history()
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=path, restore_db_confirm='quickbite'))
    assert run.rc == 0, run.output[-3000:]
    assert digest() == before
    result = run.result('pg_restore')
    assert os.path.exists(result['pre_restore_backup']) and all(check['ok'] for check in result['checks'])
    seen = [spec for _when, _available, spec in k8s.emulator.availability_history('quickbite-backend')]
    assert 0 in seen and seen[-1] == replicas

    _change_data()
    changed = digest()
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=path, restore_db_confirm='quickbite',
                                   restore_db_mode='swap'))
    assert run.rc == 0, run.output[-3000:]
    kept = run.result('pg_restore')['kept_as']
    assert digest() == before and digest(kept) == changed


def test_restore_of_several_megabytes_streams_binary_both_ways(k8s_exec, tmp_path):
    """8 MB of random bytea out of the pod (pg_dump) and back in (pg_restore's stdin)."""
    k8s = k8s_exec
    drop_db(BIG)
    psql('CREATE DATABASE %s OWNER quickbite' % BIG)
    psql("CREATE TABLE blob AS SELECT g AS id, decode(md5(random()::text) || md5(random()::text), 'hex') AS a, "
         "decode(md5(random()::text) || md5(random()::text), 'hex') AS b FROM generate_series(1, 30000) g",
         db=BIG, user='quickbite')
    assert int(psql("SELECT octet_length(string_agg(a || b, ''::bytea)) FROM blob", db=BIG)) == 30000 * 64
    before = digest(BIG)
    extra = dict(quickbite_db_name=BIG, backup_db_prefix=BIG)
    run = run_playbook('backup_db.yml', inventory='inventory/k8s', tmp_path=tmp_path, extra=_vars(k8s, tmp_path, **extra))
    assert run.rc == 0, run.output[-3000:]
    path = run.result('pg_backup')['path']
    assert run.result('pg_backup')['size'] > 2 << 20  # zstd -1 on hex text: about half the 8 MB dump
    psql('DELETE FROM blob WHERE id % 2 = 0', db=BIG, user='quickbite')
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=path, restore_db_confirm=BIG, **extra))
    assert run.rc == 0, run.output[-3000:]
    assert digest(BIG) == before


def test_failed_load_in_the_pod_returns_its_exit_code_and_the_database_is_put_back(k8s_exec, tmp_path):
    """A plain dump that passes every check but fails to load: psql's exit code (3,
    ON_ERROR_STOP) comes back through the status channel, the pre-restore backup goes back in."""
    k8s = k8s_exec
    dump = subprocess.run(['pg_dump', '-h', '127.0.0.1', '-p', str(k8s.pg.port), '-U', 'quickbite', 'quickbite'],
                          capture_output=True, check=True, env=dict(os.environ, PGPASSWORD=k8s.pg.env['DB_PASSWORD']))
    text = dump.stdout.replace(b'-- PostgreSQL database dump complete', b'SELECT 1/0;\n\n-- PostgreSQL database dump complete')
    os.makedirs(str(tmp_path / 'b'))
    legacy = str(tmp_path / 'b' / 'quickbite_20250101_120000.sql.gz')
    with open(legacy, 'wb') as handle:
        handle.write(subprocess.run(['gzip', '-c'], input=text, capture_output=True, check=True).stdout)
    _change_data()
    before = digest()
    run = run_playbook('restore_db.yml', inventory='inventory/k8s', tmp_path=tmp_path,
                       extra=_vars(k8s, tmp_path, restore_db_path=legacy, restore_db_confirm='quickbite',
                                   restore_db_allow_foreign_backup=True))
    assert run.rc != 0, run.output[-3000:]
    assert 'psql failed (exit 3)' in run.output and 'division by zero' in run.output, run.output[-3000:]
    assert 'put back from the pre-restore backup' in run.output
    assert digest() == before
