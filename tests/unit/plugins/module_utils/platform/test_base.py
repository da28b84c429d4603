from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service, ready_by_endpoint, replica


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
