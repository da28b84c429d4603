"""Scale's guards as a case table (issue 10, item 9): stateful services are
not scaled above one replica unless replicated, 0 replicas need the
service's name as confirmation, and a refusal calls nothing that changes."""
import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.ops import scale
from tests.unit.fakes import FakeAdapter


class _Adapter(FakeAdapter):

    def __init__(self, replicas):
        super(_Adapter, self).__init__()
        self.replicas = dict(replicas)

    def describe(self):
        return 'compose project in /demo'

    def service_names(self):
        return sorted(self.replicas)

    def workload(self, service):
        n = self.replicas[service]
        return dict(replicas=n, ready=n, revision=None)

    def scale(self, service, replicas):
        self.calls.append(('scale', service, replicas))

    def wait(self, service, timeout, replicas=None, **kwargs):
        self.calls.append(('wait', service, replicas))
        return dict(name=service, ok=True)


NOW = dict(backend=1, frontend=1, postgres=1, redis=1, pg=1)
STATEFUL = 'is a stateful service (quickbite_stateful_services, quickbite_db_service)'
ZERO = "to confirm (it is now %s). Nothing was changed."

CASES = [
    # (service, replicas, guards, check_mode, outcome, text in the message)
    ('postgres', 2, {}, False, 'refused', 'refusing to scale postgres to 2 replicas: postgres ' + STATEFUL),
    ('postgres', 2, {}, True, 'refused', 'refusing to scale postgres to 2 replicas'),
    ('redis', 3, {}, False, 'refused', 'refusing to scale redis to 3 replicas: redis ' + STATEFUL),
    ('pg', 2, dict(db_service='pg'), False, 'refused', 'refusing to scale pg to 2 replicas'),
    ('backend', 2, dict(stateful=['backend']), False, 'refused', 'refusing to scale backend to 2 replicas'),
    ('postgres', 0, {}, False, 'refused', 'refusing to scale postgres from 1 to 0 replicas'),
    ('backend', 0, {}, False, 'refused',
     "set scale_confirm (module option confirm) to backend, the service's name, " + ZERO % 'empty'),
    ('backend', 0, dict(confirm='frontend'), False, 'refused', ZERO % "'frontend'"),
    ('backend', 0, dict(confirm='True'), False, 'refused', ZERO % "'True'"),
    ('backend', 0, {}, True, 'warned', 'would scale backend from 1 to 0; a real run is refused without the confirmation'),
    ('backend', 0, dict(confirm='backend'), False, 'changed', 'scaled backend from 1 to 0'),
    ('frontend', 0, dict(confirm='frontend'), True, 'changed', 'would scale frontend from 1 to 0'),
    ('postgres', 2, dict(replicated=['postgres']), False, 'changed', 'scaled postgres from 1 to 2'),
    ('backend', 3, {}, False, 'changed', 'scaled backend from 1 to 3'),
    ('postgres', 1, {}, False, 'unchanged', 'postgres already runs 1 ready replica(s)'),
]


@pytest.mark.parametrize('service, replicas, guards, check_mode, outcome, text', CASES)
def test_scale_guards(service, replicas, guards, check_mode, outcome, text):
    adapter = _Adapter(NOW)
    if outcome == 'refused':
        with pytest.raises(ConfigError) as err:
            scale.run(adapter, service, replicas, 30, check_mode, scale.Guards(**guards))
        assert text in err.value.msg and err.value.msg.endswith('Nothing was changed.')
        assert adapter.calls == []
        return
    result = scale.run(adapter, service, replicas, 30, check_mode, scale.Guards(**guards))
    assert text in result['msg'] and result['changed'] == (outcome != 'unchanged')
    changing = outcome == 'changed' and not check_mode
    assert adapter.calls == ([('scale', service, replicas), ('wait', service, replicas)] if changing else [])
    assert bool(result.get('warnings')) == (outcome == 'warned')
    if outcome == 'warned':
        assert result['warnings'][0].startswith('refusing to scale %s from 1 to 0 replicas' % service)
