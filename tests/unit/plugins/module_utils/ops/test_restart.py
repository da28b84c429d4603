import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.ops import restart
from tests.unit.fakes import COMPOSE, K8S, FakeAdapter


class _Adapter(FakeAdapter):
    """Compose's capabilities, or Kubernetes' with ``platform='k8s'``."""

    def __init__(self, platform='compose'):
        super(_Adapter, self).__init__(**(K8S if platform == 'k8s' else COMPOSE))

    def restart(self, service, recreate=False):
        self.calls.append(('restart', service, recreate))

    def restart_stack(self):
        self.calls.append(('restart_stack',))

    def wait(self, service, timeout, replicas=None, gone=None, endpoint=None):
        self.calls.append(('wait', service, endpoint() if endpoint else None))
        return {'name': service, 'ok': True}


def _steps():
    return [dict(target='backend', action='restart', before={'replicas': 1}),
            dict(target='frontend', action='recreate', before={'replicas': 1})]


def _report(status):
    return dict(status=status, summary='QuickBite is not healthy on demo after 1 attempt(s) in 0.0 s; failed checks:\n'
                '- redis: unable to connect to redis at 127.0.0.1:6379: [Errno 111] Connection refused',
                report_lines=['%s on demo' % status])


def test_restart_waits_with_the_endpoint_probes_then_verifies():
    adapter = _Adapter()
    result = restart.run(adapter, _steps(), False, 30, False, verify=lambda: _report('UP'),
                         endpoints={'backend': lambda: True})
    assert adapter.calls == [('restart', 'backend', False), ('restart', 'frontend', True),
                             ('wait', 'backend', True), ('wait', 'frontend', None)]
    assert result['msg'] == 'done: restart backend; recreate frontend' and result['health']['status'] == 'UP'


def test_a_restart_that_leaves_quickbite_unhealthy_fails_with_the_evidence():
    with pytest.raises(VerificationError) as info:
        restart.run(_Adapter(), _steps(), False, 30, False, verify=lambda: _report('DOWN'))
    assert info.value.msg.startswith('done: restart backend; recreate frontend, but QuickBite is not healthy')
    assert 'redis: unable to connect to redis' in info.value.msg
    assert info.value.details['changed'] is True and info.value.details['health']['status'] == 'DOWN'


def test_check_mode_neither_restarts_nor_verifies():
    adapter = _Adapter()
    result = restart.run(adapter, _steps(), False, 30, True, verify=lambda: pytest.fail('verified in check mode'))
    assert adapter.calls == [] and result['msg'] == 'would restart backend; recreate frontend'


def _stack():
    return [dict(target=name, action='stack down/up', before={'replicas': 1}) for name in ('postgres', 'backend')]


@pytest.mark.parametrize('platform, confirm, check_mode, outcome', [
    ('compose', None, False, "refusing to restart the whole stack (restart_all): it takes every service of compose "
     "project quickbite down and up again (QuickBite is down meanwhile); set restart_confirm (module option confirm) "
     "to quickbite, the project name, to confirm (it is now empty)"),
    ('compose', '', False, 'to quickbite, the project name, to confirm (it is now empty)'),
    ('compose', 'True', False, "(it is now 'True')"),
    ('compose', 'quickbite_prod', False, "(it is now 'quickbite_prod')"),
    ('k8s', '', False, 'it restarts every Deployment of namespace quickbite; set restart_confirm (module option '
     'confirm) to quickbite, the namespace'),
    ('compose', '', True, 'warned'),
    ('compose', 'quickbite', True, 'predicted'),
    ('compose', 'quickbite', False, 'restarted'),
])
def test_whole_stack_restart_needs_the_target_name(platform, confirm, check_mode, outcome):
    adapter = _Adapter(platform)
    if outcome.startswith(('refusing', 'to ', '(', 'it ')):
        with pytest.raises(ConfigError) as err:
            restart.run(adapter, _stack(), True, 30, check_mode, confirm=confirm)
        assert outcome in err.value.msg and err.value.msg.endswith('Nothing was changed.')
        assert adapter.calls == []
        return
    result = restart.run(adapter, _stack(), True, 30, check_mode, confirm=confirm)
    assert result['changed']
    if outcome == 'restarted':
        assert adapter.calls[0] == ('restart_stack',)
        return
    assert adapter.calls == [] and result['msg'].startswith('would stack down/up postgres; stack down/up backend')
    assert bool(result.get('warnings')) == (outcome == 'warned')
    if outcome == 'warned':
        assert result['msg'].endswith('; a real run is refused without the confirmation')
        assert result['warnings'][0].startswith('refusing to restart the whole stack (restart_all)')


def test_single_services_need_no_confirmation():
    adapter = _Adapter()
    restart.run(adapter, _steps(), False, 30, False)
    assert adapter.calls[:2] == [('restart', 'backend', False), ('restart', 'frontend', True)]
