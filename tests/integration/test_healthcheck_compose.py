"""The health check against the real reference stack on Docker Compose."""
import pytest

from conftest import compose, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.compose]


def test_healthy_stack_reports_every_check_up(demo_vars, tmp_path):
    run = run_playbook('healthcheck.yml', extra=demo_vars, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    report = run.result('healthcheck')
    assert report['status'] == 'UP' and report['changed'] is False
    assert sorted(report['checks']) == ['actuator', 'db', 'frontend', 'platform', 'redis']
    assert report['checks']['actuator']['details']['components'] == {'db': 'UP', 'redis': 'UP', 'diskSpace': 'UP'}
    services = dict((s['name'], s) for s in report['checks']['platform']['details']['services'])
    assert sorted(services) == ['backend', 'frontend', 'postgres', 'redis']
    assert 'UP on compose project in' in run.output and 'actuator UP   HTTP 200' in run.output


def test_check_mode_runs_the_same_checks(demo_vars, tmp_path):
    run = run_playbook('healthcheck.yml', extra=demo_vars, check=True, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('healthcheck')['status'] == 'UP'


def test_stopped_redis_is_named_with_evidence_then_recovers(demo_vars, tmp_path):
    compose('stop', 'redis')
    try:
        run = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=0), tmp_path=tmp_path)
        assert run.rc != 0
        report = run.result('healthcheck')
        assert 'redis' in report['failed_checks'] and 'actuator' in report['failed_checks']
        assert 'db' not in report['failed_checks'] and 'frontend' not in report['failed_checks']
        checks = report['checks']
        assert checks['redis']['evidence'].startswith('unable to connect to redis at 127.0.0.1:16379')
        assert 'redis DOWN' in checks['actuator']['evidence'] and 'HTTP 503' in checks['actuator']['evidence']
        assert checks['platform']['evidence'].startswith('redis: quickbite-redis-1 is exited')
        assert 'last log lines' in checks['platform']['evidence']
        assert 'failed: actuator, redis, platform' in run.output
    finally:
        compose('start', 'redis')
    run = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert run.rc == 0, run.output


def test_stopped_backend_is_named_then_recovers(demo_vars, tmp_path):
    compose('stop', 'backend')
    try:
        run = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=0), tmp_path=tmp_path)
        assert run.rc != 0
        report = run.result('healthcheck')
        assert report['failed_checks'] == ['actuator', 'platform']
        assert 'no answer' in report['checks']['actuator']['evidence']
        assert report['checks']['platform']['evidence'].startswith('backend: quickbite-backend-1 is exited')
    finally:
        compose('start', 'backend')
    run = run_playbook('healthcheck.yml', extra=dict(demo_vars, healthcheck_timeout=90), tmp_path=tmp_path)
    assert run.rc == 0, run.output
    assert run.result('healthcheck')['checks']['platform']['status'] == 'UP'


def test_secrets_never_appear_in_output(stack, demo_vars, tmp_path):
    run = run_playbook('healthcheck.yml', extra=demo_vars, verbosity=4, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    everything = run.output + repr(run.records)
    for key in ('DB_PASSWORD', 'REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET'):
        value = stack['env'][key]
        assert len(value) >= 16
        assert value not in everything, key


def test_wrong_password_is_reported_without_the_password(demo_vars, tmp_path):
    run = run_playbook('healthcheck.yml', tmp_path=tmp_path, extra=dict(
        demo_vars, healthcheck_timeout=0, healthcheck_checks=['db', 'redis'],
        quickbite_db_password='wrong-db-password', quickbite_redis_password='wrong-redis-password'))
    assert run.rc != 0
    report = run.result('healthcheck')
    assert 'password authentication failed' in report['checks']['db']['evidence']
    assert 'check quickbite_db_user and quickbite_db_password' in report['checks']['db']['evidence']
    assert 'quickbite_redis_password' in report['checks']['redis']['evidence']
    assert 'wrong-db-password' not in run.output and 'wrong-redis-password' not in run.output


def test_bad_input_names_the_variable(demo_vars, tmp_path):
    run = run_playbook('healthcheck.yml', extra=dict(demo_vars, quickbite_platform='swarm'), tmp_path=tmp_path)
    assert run.rc != 0 and 'value of quickbite_platform must be one of: compose, k8s, got: swarm' in run.output
    run = run_playbook('healthcheck.yml', tmp_path=tmp_path,
                       extra=dict(demo_vars, healthcheck_services=['worker'], healthcheck_checks=['platform']))
    assert run.rc != 0
    assert 'unknown service(s) worker; the compose file defines' in run.output
    run = run_playbook('healthcheck.yml', tmp_path=tmp_path,
                       extra=dict(quickbite_compose_project_dir='/nonexistent/quickbite'))
    assert run.rc != 0 and '/nonexistent/quickbite' in run.output
