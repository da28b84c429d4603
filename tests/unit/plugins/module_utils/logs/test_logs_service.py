import os
import stat

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, NotFoundError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.logs import service
from tests.unit.fakes import COMPOSE, K8S, FakeAdapter

NOW = 1767607500.0  # 2026-01-05T10:05:00Z


class _Adapter(FakeAdapter):
    """Two services; backend has two replicas. Records every logs() call.
    Compose's capabilities, or Kubernetes' with ``platform='k8s'``."""

    def __init__(self, platform='compose', fail=None):
        super(_Adapter, self).__init__(**(K8S if platform == 'k8s' else COMPOSE))
        self.fail = fail
        self.logs_by_service = {
            'backend': [dict(source='backend-1', lines=['INFO up', 'ERROR boom', 'INFO after']),
                        dict(source='backend-2', lines=['INFO up'])],
            'redis': [dict(source='redis-1', lines=['* Ready to accept connections'])],
        }

    config = {}

    def describe(self):
        return 'demo'

    def config_items(self):
        return dict(self.config)

    def services(self, names=None):
        known = sorted(self.logs_by_service)
        unknown = [n for n in names or [] if n not in known]
        if unknown:
            raise NotFoundError('unknown service(s) %s' % ', '.join(unknown))
        return [dict(name=n, replicas=[dict(name=e['source'], restart_count=0) for e in self.logs_by_service[n]])
                for n in names or known]

    def logs(self, svc, tail=100, since=None, previous=False, selector=None):
        self.calls.append(dict(service=svc, tail=tail, since=since, previous=previous, selector=selector))
        if self.fail:
            raise PlatformError(self.fail)
        if selector:
            return [dict(source='pod-x', lines=['Exception in thread main'])]
        return self.logs_by_service[svc]


def _run(adapter, tmp_path, check_mode=False, **options):
    options.setdefault('dest_dir', str(tmp_path / 'out'))
    return service.run(adapter, service.LogSettings(**options), check_mode=check_mode, clock=lambda: NOW)


def test_all_services_file_sections_and_summary(tmp_path):
    adapter = _Adapter()
    result = _run(adapter, tmp_path, context_lines=1)
    assert [c['service'] for c in adapter.calls] == ['backend', 'redis']
    assert result['file'] == str(tmp_path / 'out' / 'quickbite-logs-all-20260105T100500Z.log')
    assert result['changed'] and result['would_write'] is None
    assert stat.S_IMODE(os.stat(result['file']).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(str(tmp_path / 'out')).st_mode) & 0o007 == 0
    assert result['sources'] == [dict(service='backend', source='backend-1', lines=3, matches=1),
                                 dict(service='backend', source='backend-2', lines=1, matches=0),
                                 dict(service='redis', source='redis-1', lines=1, matches=0)]
    assert result['summary'] == dict(backend=dict(sources=2, lines=4, matches=1),
                                     redis=dict(sources=1, lines=1, matches=0))
    assert result['total_lines'] == 5 and result['total_matches'] == 1
    assert result['matches'] == [dict(source='backend-1', line_number=2, line='ERROR boom',
                                      context_before=['INFO up'], context_after=['INFO after'])]
    with open(result['file']) as handle:
        text = handle.read()
    assert '===== backend: backend-1 (3 lines, 1 matches) =====\nINFO up\nERROR boom\nINFO after\n' in text
    assert '===== redis: redis-1 (1 lines, 0 matches) =====\n* Ready to accept connections\n' in text
    assert '1-INFO up\n2:ERROR boom\n3-INFO after' in text
    assert 'Written to %s' % result['file'] in result['report_lines']
    assert '2:ERROR boom' in result['report_lines']


def test_check_mode_collects_and_searches_but_writes_nothing(tmp_path):
    result = _run(_Adapter(), tmp_path, check_mode=True)
    assert result['file'] is None and result['total_matches'] == 1 and result['changed']
    assert result['would_write'] == str(tmp_path / 'out' / 'quickbite-logs-all-20260105T100500Z.log')
    assert not os.path.exists(str(tmp_path / 'out'))
    assert any(line.startswith('Check mode: no file written') for line in result['report_lines'])


def test_a_second_run_in_the_same_second_never_overwrites(tmp_path):
    first = _run(_Adapter(), tmp_path, services=['redis'])
    second = _run(_Adapter(), tmp_path, services=['redis'])
    assert first['file'].endswith('quickbite-logs-redis-20260105T100500Z.log')
    assert second['file'].endswith('quickbite-logs-redis-20260105T100500Z-2.log')
    assert sorted(os.listdir(str(tmp_path / 'out'))) == sorted([os.path.basename(first['file']),
                                                                os.path.basename(second['file'])])


def test_options_reach_the_adapter(tmp_path):
    adapter = _Adapter()
    _run(adapter, tmp_path, services=['backend'], tail=0, since='2h30m', previous=True)
    assert adapter.calls == [dict(service='backend', tail=None, since='9000s', previous=True, selector=None)]


def test_selector_on_k8s(tmp_path):
    adapter = _Adapter('k8s')
    result = _run(adapter, tmp_path, selector='app=quickbite-backend,tier in (backend)')
    assert adapter.calls[0]['selector'] == 'app=quickbite-backend,tier in (backend)'
    assert result['summary'] == {'app=quickbite-backend,tier in (backend)': dict(sources=1, lines=1, matches=1)}
    expected = 'quickbite-logs-selector-app=quickbite-backend_tier_in_backend_-20260105T100500Z.log'
    assert os.path.basename(result['file']) == expected


@pytest.mark.parametrize('options, words', [
    (dict(selector='app=x'), ['logs_selector', 'Kubernetes only']),
    (dict(since='1 hour'), ['logs_since', "'1 hour'", '2h30m']),
    (dict(since='0s'), ['logs_since', 'longer than 0']),
    (dict(since='30m1h'), ['logs_since']),
    (dict(tail=-1), ['logs_tail', '0 or more']),
    (dict(context_lines=-2), ['logs_context_lines']),
    (dict(max_matches=-1), ['logs_max_matches']),
    (dict(pattern='(oops'), ['logs_pattern']),
])
def test_bad_input_is_named_before_anything_runs(tmp_path, options, words):
    adapter = _Adapter()
    with pytest.raises(ConfigError) as info:
        _run(adapter, tmp_path, **options)
    for word in words:
        assert word in info.value.msg
    assert adapter.calls == []


def test_services_and_selector_together_are_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        _run(_Adapter('k8s'), tmp_path, services=['backend'], selector='app=x')
    assert 'logs_services' in info.value.msg and 'logs_selector' in info.value.msg


def test_unknown_service_is_named(tmp_path):
    with pytest.raises(NotFoundError) as info:
        _run(_Adapter(), tmp_path, services=['worker'])
    assert 'worker' in info.value.msg


def test_previous_failure_says_what_to_do(tmp_path):
    with pytest.raises(PlatformError) as info:
        _run(_Adapter('k8s', fail='reading logs of pod backend-2: 400 Bad Request'), tmp_path,
             services=['backend'], previous=True)
    assert 'backend-2: 400' in info.value.msg and 'logs_previous' in info.value.msg
    assert 'backend-1 0, backend-2 0' in info.value.msg


def test_previous_on_compose_is_reported_as_no_op(tmp_path):
    result = _run(_Adapter('compose'), tmp_path, services=['redis'], previous=True)
    assert any(line.startswith('previous has no effect here') for line in result['report_lines'])


def test_unwritable_dest_dir_names_the_variable(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(ConfigError) as info:
        _run(_Adapter(), tmp_path, dest_dir=str(blocker / 'sub'))
    assert 'logs_dest_dir' in info.value.msg


@pytest.mark.parametrize('text, seconds', [('90s', 90), ('10m', 600), ('1h', 3600), ('2h30m', 9000),
                                           ('1d', 86400), ('', None), (None, None)])
def test_since_seconds(text, seconds):
    assert service.since_seconds(text) == seconds


SECRETS = dict(JWT_SECRET='917a1dc6220d47a2', JWT_SECRET_PREVIOUS='0ld5ecret-value', DB_PASSWORD='pw-201cb923',
               PAYMENT_WEBHOOK_SECRET='f1fa643cdbc2', RAZORPAY_KEY_ID='rzp_live_abc', API_TOKEN='tok-12345',
               SERVER_PORT='18080', DB_USER='quickbite', SHORT_SECRET='on')


def test_secret_values_of_the_configuration_are_masked_everywhere(tmp_path):
    """Issue 10, item 19: whatever a service prints of the configuration's
    secrets is masked in the lines, the matches, the report and the file."""
    adapter = _Adapter()
    adapter.config = SECRETS
    adapter.logs_by_service['backend'][0]['lines'] = [
        'INFO starting with JWT_SECRET=917a1dc6220d47a2 and previous 0ld5ecret-value',
        'ERROR auth failed for quickbite with password pw-201cb923 on port 18080',
        'DEBUG webhook f1fa643cdbc2 key rzp_live_abc token tok-12345 mode on']
    result = _run(adapter, tmp_path, context_lines=1)
    with open(result['file']) as handle:
        written = handle.read()
    text = '\n'.join([written, repr(result)])
    for key in ('JWT_SECRET', 'JWT_SECRET_PREVIOUS', 'DB_PASSWORD', 'PAYMENT_WEBHOOK_SECRET', 'RAZORPAY_KEY_ID',
                'API_TOKEN'):
        assert SECRETS[key] not in text, key
    assert 'INFO starting with JWT_SECRET=******** and previous ********' in written
    assert 'ERROR auth failed for quickbite with password ******** on port 18080' in written
    assert result['matches'][0]['line'] == 'ERROR auth failed for quickbite with password ******** on port 18080'
    assert 'mode on' in written  # a value under 4 characters is not masked (it would hide unrelated text)


def test_mask_keys_choose_the_keys_and_empty_masks_nothing(tmp_path):
    adapter = _Adapter()
    adapter.config = SECRETS
    adapter.logs_by_service['backend'][0]['lines'] = ['ERROR 917a1dc6220d47a2 pw-201cb923']
    result = _run(adapter, tmp_path, mask_keys=['jwt_*'])
    assert result['matches'][0]['line'] == 'ERROR ******** pw-201cb923'
    result = _run(adapter, tmp_path, mask_keys=[])
    assert result['matches'][0]['line'] == 'ERROR 917a1dc6220d47a2 pw-201cb923'


def test_unreadable_configuration_refuses_instead_of_collecting_unmasked(tmp_path):
    adapter = _Adapter()

    def unreadable():
        raise ConfigError('env file /demo/.env.prod not found; set quickbite_compose_env_file')
    adapter.config_items = unreadable
    with pytest.raises(ConfigError) as err:
        _run(adapter, tmp_path)
    assert err.value.msg == ('cannot read the configuration of demo to mask its secrets in the logs: env file '
                             '/demo/.env.prod not found; set quickbite_compose_env_file; fix that, or set '
                             'logs_mask_keys to [] to collect without masking')
    assert adapter.calls == [] and not os.path.exists(str(tmp_path / 'out'))
