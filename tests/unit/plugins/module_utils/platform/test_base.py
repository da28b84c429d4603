from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service, ready_by_endpoint, replica
from tests.unit.fakes import FakeAdapter


def _service(*replicas):
    return judge_service('backend', 'backend', None, list(replicas))


def _starting(name='quickbite-backend-1', **kwargs):
    fields = dict(state='running', ready=False, health='starting', reason='health starting')
    fields.update(kwargs)
    return replica(name, **fields)


def test_sole_running_replica_whose_probe_still_starts_is_accepted():
    service = _service(_starting())
    assert service['problems'] == ['quickbite-backend-1 is health starting, restarts 0']
    accepted = ready_by_endpoint(service)
    assert accepted['ok'] and accepted['problems'] == []
    rep = accepted['replicas'][0]
    assert rep['ready'] and rep['ready_by'] == 'health endpoint UP (probe still starting)' and rep['health'] == 'starting'
    assert not service['ok'], 'the original state is left as it was'


def test_what_an_endpoint_answer_cannot_vouch_for_is_left_alone():
    unhealthy = _service(_starting(health='unhealthy', reason='unhealthy'))
    restarting = _service(_starting(state='restarting', reason='restarting'))
    exited = _service(replica('quickbite-backend-1', 'exited', False, health='starting', exit_code=1, reason='exited'))
    # Two replicas: the UP could have come from either.
    two = _service(_starting(), _starting('quickbite-backend-2'))
    one_of_two = _service(_starting(), replica('quickbite-backend-2', 'running', True, health='healthy'))
    for service in (unhealthy, restarting, exited, two, one_of_two):
        assert ready_by_endpoint(service) is service and not service['ok']


def test_a_terminating_replica_does_not_count():
    service = _service(_starting(), replica('quickbite-backend-old', 'running', True, terminating=True))
    assert ready_by_endpoint(service)['ok']


class _LoggingAdapter(FakeAdapter):
    """An adapter whose service printed its secrets before a wait timed out."""

    def __init__(self, config):
        self.config = config

    def logs(self, service, tail=None, **kwargs):
        return [dict(lines=['booting with JWT_SECRET=jwt-secret-value-1234',
                            'db password is pg-password-5678', 'ready'])]

    def describe(self):
        return 'compose project in /x'

    def config_items(self):
        if self.config is None:
            raise PlatformError('cannot read /x/.env.prod: permission denied')
        return self.config


def test_a_timeout_masks_the_configurations_secrets_in_its_log_lines():
    config = {'JWT_SECRET': 'jwt-secret-value-1234', 'DB_PASSWORD': 'pg-password-5678', 'LOG_LEVEL': 'ready'}
    error = _LoggingAdapter(config).timeout_error('backend', 'become ready', 30, ['not ready'], {})
    text = error.msg + repr(error.details)
    assert 'jwt-secret-value-1234' not in text and 'pg-password-5678' not in text
    assert '********' in error.msg and 'ready' in error.details['last_log_lines']  # non-secret keys stay


def test_a_timeout_withholds_log_lines_it_cannot_mask():
    error = _LoggingAdapter(None).timeout_error('backend', 'become ready', 30, ['not ready'], {})
    assert 'jwt-secret-value-1234' not in error.msg + repr(error.details)
    assert '3 log lines withheld' in error.msg and 'permission denied' in error.msg
