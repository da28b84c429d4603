from ansible_collections.quickbite.ops.plugins.module_utils.health import service
from tests.unit.fakes import FakeAdapter


class _Clock(object):
    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _fake_checks(monkeypatch, outcomes):
    """outcomes: list of dicts name->bool, one per attempt (last one repeats)."""
    calls = {'n': 0}

    def run_once(adapter, settings):
        index = min(calls['n'], len(outcomes) - 1)
        calls['n'] += 1
        return dict((name, {'status': 'UP' if ok else 'DOWN', 'evidence': '%s evidence' % name,
                            'details': {}, 'duration_ms': 1})
                    for name, ok in outcomes[index].items())
    monkeypatch.setattr(service, 'run_once', run_once)
    return calls


class _Adapter(FakeAdapter):

    def describe(self):
        return 'demo'


def test_retries_until_up(monkeypatch):
    clock = _Clock()
    _fake_checks(monkeypatch, [{'actuator': False, 'redis': True}, {'actuator': True, 'redis': True}])
    settings = service.HealthSettings(checks=['actuator', 'redis'])
    report = service.run(_Adapter(), settings, timeout=10, interval=2, sleep=clock.sleep, clock=clock.time)
    assert report['status'] == 'UP' and report['attempts'] == 2 and report['failed_checks'] == []
    assert report['summary'].startswith('QuickBite is healthy on demo')


def test_gives_up_at_deadline_and_lists_each_failure(monkeypatch):
    clock = _Clock()
    calls = _fake_checks(monkeypatch, [{'actuator': False, 'redis': False, 'db': True}])
    settings = service.HealthSettings(checks=['actuator', 'db', 'redis'])
    report = service.run(_Adapter(), settings, timeout=7, interval=2, sleep=clock.sleep, clock=clock.time)
    assert report['status'] == 'DOWN'
    assert calls['n'] == 4  # t=0,2,4,6; the next would start after the deadline
    assert report['failed_checks'] == ['actuator', 'redis']
    assert report['summary'].splitlines()[1:] == ['- actuator: actuator evidence', '- redis: redis evidence']
    assert report['report_lines'][0].startswith('DOWN on demo (4 attempt(s)')
    assert report['report_lines'][0].endswith('; failed: actuator, redis')


def test_timeout_zero_checks_once(monkeypatch):
    clock = _Clock()
    calls = _fake_checks(monkeypatch, [{'db': False}])
    service.run(_Adapter(), service.HealthSettings(checks=['db']), timeout=0, sleep=clock.sleep, clock=clock.time)
    assert calls['n'] == 1


class _StartingBackend(_Adapter):
    """The backend's sole container runs, Docker's probe still says starting."""

    def services(self, names=None, detail=True):
        from ansible_collections.quickbite.ops.plugins.module_utils.platform.base import judge_service, replica
        return [judge_service('backend', 'backend', None, [replica('quickbite-backend-1', 'running', False,
                                                                   health='starting', reason='health starting')])]

    def logs(self, service, tail=100, **kwargs):
        return [dict(source='backend-1', lines=['Started QuickBiteApplication'])]


def _actuator(monkeypatch, status):
    from ansible_collections.quickbite.ops.plugins.module_utils.health import checks
    monkeypatch.setattr(checks, 'actuator', lambda *a, **k: {'name': 'actuator', 'status': status, 'evidence': 'e',
                                                             'details': {}, 'duration_ms': 1})


def test_platform_takes_the_endpoint_for_a_starting_backend_only_when_asked(monkeypatch):
    _actuator(monkeypatch, 'UP')
    strict = service.run_once(_StartingBackend(), service.HealthSettings(checks=['actuator', 'platform']))
    assert strict['platform']['status'] == 'DOWN', 'the health check itself waits for the probe'
    assert 'quickbite-backend-1 is health starting' in strict['platform']['evidence']
    settings = service.HealthSettings(checks=['platform', 'actuator'], endpoints=service.ENDPOINTS)
    relaxed = service.run_once(_StartingBackend(), settings)
    assert relaxed['platform']['status'] == 'UP' and relaxed['actuator']['status'] == 'UP'
    backend = relaxed['platform']['details']['services'][0]['replicas'][0]
    assert backend['ready_by'] == 'health endpoint UP (probe still starting)'


def test_a_down_endpoint_vouches_for_nothing(monkeypatch):
    _actuator(monkeypatch, 'DOWN')
    settings = service.HealthSettings(checks=['actuator', 'platform'], endpoints=service.ENDPOINTS)
    result = service.run_once(_StartingBackend(), settings)
    assert result['platform']['status'] == 'DOWN'
    assert 'last log lines' in result['platform']['evidence']
    # Without the actuator among the checks there is nothing to vouch either.
    settings = service.HealthSettings(checks=['platform'], endpoints=service.ENDPOINTS)
    assert service.run_once(_StartingBackend(), settings)['platform']['status'] == 'DOWN'
    assert service.endpoint_probes(settings) == {}


def test_endpoint_probe_for_waits(monkeypatch):
    _actuator(monkeypatch, 'UP')
    settings = service.HealthSettings(checks=['actuator'], endpoints=service.ENDPOINTS)
    probes = service.endpoint_probes(settings)
    assert list(probes) == ['backend'] and probes['backend']() is True
