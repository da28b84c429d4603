import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import VerificationError
from ansible_collections.quickbite.ops.plugins.module_utils.ops import restart


class _Adapter(object):
    platform = 'compose'

    def __init__(self):
        self.calls = []

    def restart(self, service, recreate=False):
        self.calls.append(('restart', service, recreate))

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
