"""Every job template of controller/controller_templates.yml run as AWX runs it
(ansible-runner, a private data directory with the survey's defaults and
answers as extra vars, the QuickBite secrets credential through its injector,
job events read back) against the demo stack (issue 16 item 3). Within the
stack lane's budget: the read-only and quick templates run for real, the backup
with its verification included; test_awx_runner_k8s.py runs every template on
the emulator. No job event,
stdout or artifact holds a secret of the stack's .env.prod, of the credential
or of a survey password. Then AWX's cancel (SIGINT, then SIGTERM) during a
backup: nothing half-done."""
import json
import os
import signal
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

import awx_controller
import awx_runner
from conftest import ROOT, descendants, _argv, wait_gone
from dbtools import backups_in

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def _inventory_vars(stack):
    with open(os.path.join(ROOT, 'inventory', 'demo', 'group_vars', 'quickbite.yml')) as handle:
        values = yaml.safe_load(handle)
    values['quickbite_compose_project_dir'] = stack['dir']
    return values


def _credential(stack):
    return dict(db_password=stack['env']['DB_PASSWORD'], db_admin_password=stack['env']['POSTGRES_PASSWORD'],
                redis_password=stack['env']['REDIS_PASSWORD'])


def _stack_secrets(stack):
    return [v for k, v in stack['env'].items() if any(w in k for w in ('PASSWORD', 'SECRET')) and len(v) >= 8]


class _Alertmanager(object):
    """Alertmanager's API v2 answering one firing alert (the alerts template reads it)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = (b'[{"labels": {"alertname": "HighErrorRate", "severity": "critical"}, "annotations": '
                        b'{"summary": "5xx above 5%"}, "status": {"state": "active"}, '
                        b'"startsAt": "2026-01-01T00:00:00Z"}]')
                self.send_response(200 if self.path.startswith('/api/v2/alerts') else 404)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _plan(tmp_path, alertmanager):
    """(playbook, answers, check mode): the read-only and quick templates, for real. Every
    template runs on the emulator (test_awx_runner_k8s.py, the no-stack lane), the database
    ones against a throw-away PostgreSQL there; these are the ones worth the stack lane's time."""
    backups = str(tmp_path / 'backups')
    return [
        ('healthcheck.yml', {}, False),
        ('logs.yml', dict(logs_services='backend,frontend', logs_since='10m', logs_dest_dir=str(tmp_path / 'logs'),
                          logs_allow_ephemeral='true'), False),
        ('alerts.yml', dict(alerts_alertmanager_url=alertmanager.url, alerts_prometheus_url=''), False),
        ('backup_db.yml', dict(backup_db_dest_dir=backups, backup_db_verify='true', backup_db_allow_ephemeral='true',
                               backup_db_keep_last=0), False),
        ('flyway_repair.yml', {}, False),
    ]


def test_every_job_template_runs_as_awx_runs_it_without_leaking_a_secret(stack, tmp_path):
    alertmanager = _Alertmanager()
    plan = _plan(tmp_path, alertmanager)
    templates = set(t['playbook'][len('playbooks/'):] for t in awx_controller.templates().values())
    failures, timings = [], {}
    for playbook, answers, check in plan:
        if playbook not in templates:
            continue
        answers = dict(answers, quickbite_platform='compose')
        asked = [q['variable'] for q in awx_controller.template_for(playbook)['survey_spec']['spec']]
        answers = dict((k, v) for k, v in answers.items() if k in asked or not k.endswith('_allow_ephemeral'))
        started = time.time()
        job = awx_runner.prepare(tmp_path, playbook, answers, _inventory_vars(stack), _credential(stack),
                                 check=check, extra_secrets=_stack_secrets(stack)).run()
        timings[playbook] = round(time.time() - started, 1)
        if job.status != 'successful':
            failures.append('%s%s: %s' % (playbook, ' (check)' if check else '', job.explain()))
            continue
        assert not job.leaks(), '%s: secrets in %s' % (playbook, job.leaks())
        events = job.events()
        assert events[0]['event'] == 'playbook_on_start' and events[-1]['event'] == 'playbook_on_stats', playbook
        if playbook == 'healthcheck.yml':
            assert job.results('healthcheck')[-1]['status'] == 'UP'
        if playbook == 'alerts.yml':
            assert 'HighErrorRate' in job.stdout
        if playbook == 'backup_db.yml':
            backup = job.results('pg_backup')[-1]['path']
            verified = job.results('verify_backup')[-1]
            assert verified['ok'] is True and verified['path'] == backup
            names = backups_in(os.path.dirname(backup))
            assert not [n for n in names if 'partial' in n], names
    print('runner timings (s): %s' % timings)
    assert not failures, '\n\n'.join(failures)


def _backup_module_pids(job):
    return [pid for pid in descendants(job.proc.pid)
            if _argv(pid) and _argv(pid)[-1].endswith('/AnsiballZ_pg_backup.py')]


def test_awx_cancel_during_a_backup_leaves_nothing_half_done(stack, tmp_path):
    dest = str(tmp_path / 'backups')
    job = awx_runner.prepare(tmp_path, 'backup_db.yml', dict(
        quickbite_platform='compose', backup_db_dest_dir=dest, backup_db_allow_ephemeral='true',
        backup_db_keep_last=0), _inventory_vars(stack), _credential(stack),
        extra_secrets=_stack_secrets(stack)).start()
    try:
        awx_runner.wait_for(lambda: [n for n in backups_in(dest) if 'partial' in n] or job.proc.poll() is not None)
        modules = _backup_module_pids(job)
        job.cancel(grace=5)
    finally:
        if job.proc.poll() is None:
            os.killpg(job.proc.pid, signal.SIGKILL)
    assert job.status == 'canceled', job.explain()
    assert modules, 'the backup module was not running when the job was cancelled'
    wait_gone(modules)
    names = backups_in(dest)
    assert not [n for n in names if 'partial' in n], names
    # Either no backup, or a whole one: file, checksum and manifest.
    assert len(names) in (0, 3), names
    print('the cancelled backup left %s' % ('a complete backup' if names else 'no backup'))
    assert not job.leaks()
    with urllib.request.urlopen('http://127.0.0.1:18080/actuator/health', timeout=10) as response:
        assert json.load(response)['status'] == 'UP'
