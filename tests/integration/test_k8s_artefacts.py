"""Artefacts that survive the job (issue 12 item 11), on the Kubernetes path
against the emulator: inside what looks like an AWX job (AWX_* in the
environment) a log bundle on the container's filesystem is refused, naming the
variables; allowed explicitly it is written and handed to the workflow's next
steps with set_stats."""
import pytest

from conftest import run_playbook
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


@pytest.fixture(scope='module')
def k8s(tmp_path_factory):
    with emulator(tmp_path_factory, pod_start_delay=0.05) as cluster:  # the Role's token
        yield cluster


def test_log_bundle_in_an_awx_job_refused_unless_allowed_then_returned_with_set_stats(k8s, tmp_path):
    dest = tmp_path / 'bundles'
    extra = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, logs_dest_dir=str(dest), logs_services=['backend'])
    env = dict(AWX_HOST='https://awx.example', JOB_ID='42', INVENTORY_ID='1', ANSIBLE_SHOW_CUSTOM_STATS='true')
    run = run_playbook('logs.yml', inventory='inventory/k8s', extra=extra, env=env, tmp_path=tmp_path)
    assert run.rc != 0
    assert 'refusing to write the log bundle to %s: this run is an AWX job' % dest in run.output, run.output[-3000:]
    assert 'or set logs_allow_ephemeral=true' in run.output and not dest.exists()
    run = run_playbook('logs.yml', inventory='inventory/k8s', extra=dict(extra, logs_allow_ephemeral=True), env=env,
                       tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    written = run.result('logs')['file']
    assert written.startswith(str(dest)) and (dest / written.rsplit('/', 1)[1]).exists()
    # ansible-playbook's custom stats (what AWX stores as the job's artifacts for the workflow's next nodes).
    stats = run.output.split('CUSTOM STATS:', 1)[1]
    assert 'RUN:  logs_file: %s\n' % written in stats, stats


def test_incident_record_in_an_awx_job_refused_unless_allowed_then_returned_with_set_stats(k8s, tmp_path):
    """The incident's record (report, timeline, post-mortem draft) as the log bundle: refused on the
    job's own filesystem, written when allowed, its path and severity in the custom stats."""
    k8s.emulator.reset()
    records = tmp_path / 'incidents'
    extra = dict(quickbite_k8s_kubeconfig=k8s.kubeconfig, incident_dir=str(records), incident_id='inc-awx',
                 incident_probes=['services', 'deploys'], incident_fail=False)
    env = dict(AWX_HOST='https://awx.example', JOB_ID='43', INVENTORY_ID='1', ANSIBLE_SHOW_CUSTOM_STATS='true')
    run = run_playbook('incident.yml', inventory='inventory/k8s', extra=extra, env=env, tmp_path=tmp_path)
    assert run.rc != 0
    assert 'refusing to write the incident record to %s: this run is an AWX job' % records in run.output, \
        run.output[-3000:]
    assert 'or set incident_allow_ephemeral=true' in run.output and not records.exists()
    run = run_playbook('incident.yml', inventory='inventory/k8s', extra=dict(extra, incident_allow_ephemeral=True),
                       env=env, tmp_path=tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert (records / 'inc-awx' / 'report.json').exists()
    stats = run.output.split('CUSTOM STATS:', 1)[1]
    assert 'incident_record_path: %s' % (records / 'inc-awx') in stats and 'incident_id: inc-awx' in stats, stats
