"""Every job template of controller/controller_templates.yml run as AWX runs it
(ansible-runner, private data directory, survey defaults and answers as extra
vars, the QuickBite secrets credential through its injector, job events read
back) against the Kubernetes emulator (issue 16 item 3), without the demo stack
(the postgres pod's exec reaches a throw-away PostgreSQL 15): the read-only and
quick templates, the backup with its verification, the JWT rotation, scale and
restart for real, the others in check mode. No job event, stdout or artifact holds a secret of the Secret, the
credential or a survey password. Then AWX's cancel (SIGINT, then SIGTERM) in the
middle of a rotation: the secret is old or new everywhere, the backend healthy."""
import base64
import json
import os
import secrets
import signal
import time

import pytest
import yaml

import awx_controller
import awx_runner
from conftest import ROOT, descendants, _argv, wait_gone
from k8s_defaults import ROLE_TOKEN, emulator
from test_awx_runner_compose import _Alertmanager
from k8s_pg import quickbite_pg  # noqa: F401 pylint: disable=unused-import
from test_rotate_k8s import SEED, PodsBackend

pytestmark = [pytest.mark.integration, pytest.mark.k8s]


@pytest.fixture
def k8s(tmp_path_factory, quickbite_pg):
    """The emulator enforcing the Role of deploy/k8s-rbac.yml (k8s_defaults.emulator), its postgres pod's
    exec backed by QuickBite's database on a throw-away PostgreSQL 15 (k8s_pg), the Secret holding its
    passwords."""
    env = quickbite_pg.env
    seed = dict(SEED, DB_PASSWORD=env['DB_PASSWORD'], POSTGRES_PASSWORD=env['POSTGRES_PASSWORD'],
                DB_USER=env['DB_USER'], DB_NAME=env['DB_NAME'])
    with emulator(tmp_path_factory, secrets=seed, pod_start_delay=0.1,
                  exec_backends={'postgres': quickbite_pg.exec_prefix}) as cluster:
        cluster.backend = PodsBackend(cluster.emulator)
        cluster.pg, cluster.seed = quickbite_pg, seed
        yield cluster
        cluster.backend.close()


def _credential(k8s):
    """The QuickBite secrets credential's inputs: the deployment's passwords."""
    return dict(db_password=k8s.seed['DB_PASSWORD'], db_admin_password=k8s.seed['POSTGRES_PASSWORD'],
                redis_password=k8s.seed['REDIS_PASSWORD'])


def _platform_credential(k8s):
    """The job's API access as AWX's "OpenShift or Kubernetes API Bearer Token" credential injects it
    (K8S_AUTH_* environment): the ServiceAccount token bound to the Role; no kubeconfig."""
    return dict(K8S_AUTH_HOST=k8s.url, K8S_AUTH_API_KEY=ROLE_TOKEN, K8S_AUTH_VERIFY_SSL='False')


def _secret(k8s):
    return dict((k, base64.b64decode(v).decode()) for k, v in k8s.emulator.get('secrets', 'quickbite-secrets')['data'].items())


def _seed_secrets(k8s):
    return [v for k, v in k8s.seed.items() if any(w in k for w in ('PASSWORD', 'SECRET'))]


def _secret_values(k8s):
    """The Secret's secret values (its DB_NAME and ports are not)."""
    return [v for k, v in _secret(k8s).items() if any(w in k for w in ('PASSWORD', 'SECRET')) and len(v) >= 8]


def _inventory_vars(k8s):
    with open(os.path.join(ROOT, 'inventory', 'k8s', 'group_vars', 'quickbite.yml')) as handle:
        values = yaml.safe_load(handle)
    values.update(quickbite_backend_url=k8s.backend.url, quickbite_db_port=k8s.pg.port,
                  quickbite_frontend_url=k8s.backend.url,
                  # No Redis here: the health checks after a restart or scale read the API, the backend, the database.
                  healthcheck_checks=['actuator', 'db', 'platform'])
    return values


# The throw-away database has no Flyway history (its migrations ran through psql): the Flyway report
# refuses there, rightly. test_awx_runner_compose.py runs it for real on the stack's database.
ON_THE_STACK_ONLY = ('flyway_repair.yml',)


def _plan(tmp_path, alertmanager):
    audit = str(tmp_path / 'rotation.log')
    backups = str(tmp_path / 'backups')
    new = secrets.token_hex(24)
    return [
        # Real runs: what needs only the API (and the stand-in backend).
        ('healthcheck.yml', dict(healthcheck_checks=['actuator', 'platform']), False),
        ('logs.yml', dict(logs_services='backend', logs_dest_dir=str(tmp_path / 'logs'), logs_allow_ephemeral='true'),
         False),
        ('alerts.yml', dict(alerts_alertmanager_url=alertmanager.url, alerts_prometheus_url=''), False),
        ('rotate_jwt.yml', dict(rotate_jwt_audit_log=audit, rotate_jwt_audit_allow_ephemeral='true',
                                rotate_jwt_wait_timeout=60), False),
        ('backup_db.yml', dict(backup_db_dest_dir=backups, backup_db_verify='true', backup_db_allow_ephemeral='true',
                               backup_db_keep_last=0), False),
        ('scale.yml', dict(scale_service='backend', scale_replicas=4), False),
        ('restart.yml', dict(restart_services='frontend'), False),
        # Check mode.
        ('verify_backup.yml', dict(verify_backup_dest_dir=backups), True),
        ('restore_db.yml', dict(restore_db_path='@newest', restore_db_confirm='quickbite', restore_db_backup_dir=backups,
                                restore_db_allow_ephemeral='true'), True),
        ('rotate_db_password.yml', dict(rotate_db_password_new=new + 'd', rotate_db_password_audit_log=audit,
                                        rotate_db_password_audit_allow_ephemeral='true'), True),
        ('rollback.yml', {}, True),
        ('incident.yml', dict(incident_dir=str(tmp_path / 'incidents'), incident_fail='false',
                              incident_allow_ephemeral='true', incident_probes=['services']), True),
        ('rotate_webhook_secret.yml', dict(rotate_webhook_secret_new=new + 'w', rotate_webhook_secret_audit_log=audit,
                                           rotate_webhook_secret_audit_allow_ephemeral='true'), True),
        ('monitoring.yml', dict(monitoring_rules_file=str(tmp_path / 'rules.yml'), monitoring_prometheus_url='',
                                monitoring_alertmanager_url=''), True),
        ('backup_schedule.yml', dict(backup_schedule_inventory=str(tmp_path / 'backup.yml')), True),
    ]


def test_every_job_template_runs_as_awx_runs_it_without_leaking_a_secret(k8s, tmp_path):
    alertmanager = _Alertmanager()
    plan = _plan(tmp_path, alertmanager)
    templates = set(t['playbook'][len('playbooks/'):] for t in awx_controller.templates().values())
    # A template this file does not know yet runs in check mode with the survey's defaults: it goes
    # through the survey, the injector and the runner, and leaks nothing; its outcome is only reported
    # (it may need answers: give it an entry in _plan).
    unplanned = sorted(templates - set(entry[0] for entry in plan) - set(ON_THE_STACK_ONLY))
    plan += [(p, {}, True) for p in unplanned]
    failures, timings = [], {}
    for playbook, answers, check in plan:
        if playbook not in templates:
            continue
        answers = dict(answers, quickbite_platform='k8s')
        if answers.get('restore_db_path') == '@newest':
            answers['restore_db_path'] = newest
        asked = [q['variable'] for q in awx_controller.template_for(playbook)['survey_spec']['spec']]
        answers = dict((k, v) for k, v in answers.items() if k in asked or not k.endswith('_allow_ephemeral'))
        started = time.time()
        job = awx_runner.prepare(tmp_path, playbook, answers, _inventory_vars(k8s), _credential(k8s), check=check,
                                 envvars=_platform_credential(k8s),
                                 extra_secrets=_seed_secrets(k8s) + _secret_values(k8s) + [ROLE_TOKEN]).run()
        timings[playbook] = round(time.time() - started, 1)
        if playbook in unplanned:
            events = [e['event'] for e in job.events()]
            assert events[0] == 'playbook_on_start' and 'playbook_on_stats' in events, job.explain()
            assert not job.leaks(), '%s: secrets in %s' % (playbook, job.leaks())
            print('%s (check, no answers, not in _plan): %s' % (playbook, job.status))
            continue
        if job.status != 'successful':
            failures.append('%s%s: %s' % (playbook, ' (check)' if check else '', job.explain()))
            continue
        job.secrets += _secret_values(k8s)  # the rotated value too
        assert not job.leaks(), '%s: secrets in %s' % (playbook, job.leaks())
        assert job.events()[-1]['event'] == 'playbook_on_stats', playbook
        if playbook == 'rotate_jwt.yml':
            assert job.results('jwt_rotate')[-1]['outcome'] == 'rotated'
            assert _secret(k8s)['JWT_SECRET'] != SEED['JWT_SECRET'] == 'a' * 64
            assert k8s.backend.secrets['JWT_SECRET'] == _secret(k8s)['JWT_SECRET']
        if playbook == 'backup_db.yml':
            newest = job.results('pg_backup')[-1]['path']
            verified = job.results('verify_backup')[-1]
            assert verified['ok'] is True and verified['path'] == newest
            assert not [n for n in os.listdir(os.path.dirname(newest)) if 'partial' in n]
        if playbook == 'scale.yml':
            assert k8s.emulator.get('deployments', 'quickbite-backend')['spec']['replicas'] == 4
    print('runner timings (s): %s' % timings)
    assert not failures, '\n\n'.join(failures)


def _pending_phase(k8s):
    state = k8s.emulator.get('secrets', 'quickbite-ops-state')
    for value in ((state or {}).get('data') or {}).values():
        if value:
            return json.loads(base64.b64decode(value).decode()).get('phase')
    return None


def test_awx_cancel_during_a_rotation_leaves_the_secret_old_or_new_everywhere(k8s, tmp_path):
    job = awx_runner.prepare(tmp_path, 'rotate_jwt.yml', dict(
        quickbite_platform='k8s', rotate_jwt_audit_log=str(tmp_path / 'rotation.log'),
        rotate_jwt_audit_allow_ephemeral='true', rotate_jwt_wait_timeout=60), _inventory_vars(k8s), _credential(k8s),
        envvars=_platform_credential(k8s), extra_secrets=_seed_secrets(k8s) + [ROLE_TOKEN]).start()
    try:
        awx_runner.wait_for(lambda: _pending_phase(k8s) == 'set' or job.proc.poll() is not None, timeout=60)
        modules = [pid for pid in descendants(job.proc.pid)
                   if _argv(pid) and _argv(pid)[-1].endswith('/AnsiballZ_jwt_rotate.py')]
        job.cancel(grace=5)
    finally:
        if job.proc.poll() is None:
            os.killpg(job.proc.pid, signal.SIGKILL)
    assert job.status == 'canceled', job.explain()
    assert modules, 'the rotation module was not running when the job was cancelled'
    wait_gone(modules, timeout=90)
    secret = _secret(k8s)['JWT_SECRET']
    assert len(secret) == 64
    print('the cancelled rotation left the %s secret' % ('old' if secret == SEED['JWT_SECRET'] else 'new'))
    # Old or new everywhere: the Secret and what the running pods read agree, nothing pending, healthy.
    awx_runner.wait_for(lambda: k8s.backend.secrets.get('JWT_SECRET') == secret, timeout=30)
    assert _pending_phase(k8s) is None, 'a rotation is left pending'
    deployment = k8s.emulator.get('deployments', 'quickbite-backend')
    assert deployment['status'].get('updatedReplicas') == deployment['spec']['replicas']
    job.secrets.append(secret)
    assert not job.leaks()
