from ansible_collections.quickbite.ops.plugins.module_utils.health import service


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


class _Adapter(object):
    platform = 'compose'

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
