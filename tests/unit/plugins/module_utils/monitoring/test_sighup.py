"""The SIGHUP reload's guard: the pid file must name a running Prometheus or
Alertmanager; anything else is refused before a signal is sent."""
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.monitoring import install


def _pid_file(tmp_path, pid):
    path = tmp_path / 'prometheus.pid'
    path.write_text('%s\n' % pid)
    return str(path)


def test_a_pid_of_another_program_is_refused(tmp_path):
    target = install.prometheus_rules('/usr/bin/promtool', [])
    with pytest.raises(ConfigError) as info:
        install._server_pid(target, _pid_file(tmp_path, os.getpid()), 'monitoring_prometheus_pid_file')
    assert 'which runs python' in info.value.msg and 'not prometheus: refusing to signal it' in info.value.msg
    assert info.value.msg.endswith('fix monitoring_prometheus_pid_file')


def test_a_pid_file_that_is_a_symlink_or_garbage_is_refused(tmp_path):
    target = install.alertmanager_config('/usr/bin/amtool', 'quickbite-oncall')
    link = tmp_path / 'link.pid'
    link.symlink_to(_pid_file(tmp_path, os.getpid()))
    with pytest.raises(ConfigError) as info:
        install._server_pid(target, str(link), 'monitoring_alertmanager_pid_file')
    assert 'cannot read a PID from' in info.value.msg and 'Set monitoring_alertmanager_pid_file' in info.value.msg
    with pytest.raises(ConfigError) as info:
        install._server_pid(target, _pid_file(tmp_path, 'not-a-pid'), 'monitoring_alertmanager_pid_file')
    assert 'cannot read a PID from' in info.value.msg
    with pytest.raises(ConfigError) as info:
        install._server_pid(target, 'relative.pid', 'monitoring_alertmanager_pid_file')
    assert 'must be the absolute path' in info.value.msg


def test_reload_markers():
    prometheus = install.prometheus_rules('/usr/bin/promtool', [])
    assert prometheus.loaded[0] == '/api/v1/status/runtimeinfo'
    assert prometheus.loaded[1]({'data': {'lastConfigTime': 't', 'reloadConfigSuccess': True}}) == ('t', True)
    alertmanager = install.alertmanager_config('/usr/bin/amtool', 'quickbite-oncall')
    assert alertmanager.loaded[1]({'config': {'original': 'route: {}'}}) == 'route: {}'
