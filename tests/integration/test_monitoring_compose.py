"""Monitoring alerts proven end to end: the role installs the rules and the
routing into a real Prometheus 2.42 and Alertmanager 0.25 (Debian's
packages, processes on 127.0.0.1 started by monitoring_bed.py) that scrape
the demo backend and node_exporter, with intervals and `for:` shortened by
the role's variables. Slow backend -> High Latency, webhook errors ->
Webhook Errors, a filled small tmpfs -> Disk Usage, all three reaching a
webhook receiver through Alertmanager and listed by alerts.yml; restored ->
resolved. Failing payments -> Payment Failure Rate and dropped WebSocket
sessions -> WebSocket Disconnects, in one run; removed -> resolved. The
backend OOM-killed for real (a 96 MiB limit, a 256 MiB leak) -> OOM Killed
from the Engine's oom event (monitoring_bed.OomEvents publishes cAdvisor's
container_oom_events_total); resolved once the window has passed. Backend
stopped -> Backend Down with its runbook_url; started again -> resolved. The
backend is stopped under the stack lock (`stack` fixture) and restarted (or
recreated) before the test ends. A Prometheus started without
--web.enable-lifecycle is reloaded by SIGHUP (no stack)."""
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import compose, run_playbook
from monitoring_bed import Bed, Prometheus, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.compose]

FOR = '2s'
BACKEND_DOWN_FOR = 2.0


@pytest.fixture(scope='module')
def disk(tmp_path_factory):
    """A 4 MiB tmpfs: the database volume's stand-in that the test fills."""
    path = str(tmp_path_factory.mktemp('dbvolume'))
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', path], check=True)
    yield path
    subprocess.run(['umount', path], check=False)


@pytest.fixture(scope='module')
def bed(stack, disk, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp('monitoring'))
    with Bed(workdir, '127.0.0.1:%s' % stack['env']['SERVER_PORT'], mountpoint=disk) as started:
        # Prometheus' target discovery sends its first update after up to 5 s.
        wait_until(lambda: started.up('quickbite-backend') == 1 and started.up('node') == 1, 30,
                   'first scrapes of the backend and node_exporter')
        yield started


def _vars(stack, bed, disk):
    return {
        'quickbite_compose_project_dir': stack['dir'],
        'monitoring_rules_file': bed.rules_file,
        'monitoring_prometheus_url': bed.prometheus_url,
        'monitoring_evaluation_interval': '1s',
        'monitoring_alerts': {
            'backend_down': {'for': FOR},
            'high_latency': {'for': FOR, 'threshold_seconds': 0.25, 'window': '5s'},
            'webhook_errors': {'for': FOR, 'threshold_per_minute': 30, 'window': '5s'},
            'disk_usage': {'for': FOR, 'threshold_ratio': 0.5, 'mountpoint': disk},
            'payment_failure_rate': {'for': FOR, 'window': '5s'},
            'websocket_disconnects': {'for': FOR, 'window': '8s', 'min_sessions': 3},
            'oom_killed': {'window': '10s'},
        },
        'monitoring_alertmanager_file': bed.alertmanager_file,
        'monitoring_alertmanager_url': bed.alertmanager_url,
        'monitoring_alertmanager_webhook_urls': [bed.receiver.url],
        'monitoring_alertmanager_group_wait': '1s',
        'monitoring_alertmanager_group_interval': '1s',
        'monitoring_alertmanager_repeat_interval': '1h',
    }


def _results(run):
    """{task name without the role prefix: result} of the monitoring_config tasks."""
    return dict((r['task'].split(' : ', 1)[-1], r['result']) for r in run.records
                if r['action'].endswith('monitoring_config'))


def _faults(stack, **switches):
    req = urllib.request.Request('http://127.0.0.1:%s/actuator/faults' % stack['env']['SERVER_PORT'],
                                 data=json.dumps(switches).encode(), method='POST')
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


class Traffic(object):
    """Threads calling the API (orders, signed payment webhooks) until stopped."""

    def __init__(self, stack, threads=4):
        self.base = 'http://127.0.0.1:%s' % stack['env']['SERVER_PORT']
        self.secret = stack['env']['PAYMENT_WEBHOOK_SECRET'].encode()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _index in range(threads)]

    def loop(self):
        body = b'{"event": "payment.captured"}'
        sig = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        while not self.stop.is_set():
            for req in (urllib.request.Request(self.base + '/api/orders'),
                        urllib.request.Request(self.base + '/api/payments/webhook', data=body,
                                               headers={'X-Razorpay-Signature': sig})):
                try:
                    urllib.request.urlopen(req, timeout=5).close()
                except (urllib.error.URLError, OSError):
                    pass

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(10)


def test_install_check_mode_then_run_then_idempotent(stack, bed, disk, tmp_path):
    extra = _vars(stack, bed, disk)
    check = run_playbook('monitoring.yml', extra=extra, check=True, tmp_path=tmp_path)
    assert check.rc == 0, check.output
    predicted = _results(check)
    assert predicted['Install the alerting rules']['changed'] is True
    assert predicted['Install the alerting rules']['reloaded'] is True
    assert not os.path.exists(bed.rules_file)  # check mode wrote nothing
    assert 'quickbite-oncall' not in open(bed.alertmanager_file).read()

    run = run_playbook('monitoring.yml', extra=extra, tmp_path=tmp_path)
    assert run.rc == 0, run.output
    done = _results(run)
    assert done['Install the alerting rules']['changed'] is True and done['Install the alerting rules']['reloaded']
    assert done['Install the Alertmanager routing']['changed'] is True
    # Prometheus and Alertmanager hold what was installed (an independent look).
    loaded = json.loads(urllib.request.urlopen(bed.prometheus_url + '/api/v1/rules', timeout=5).read())
    names = sorted(r['name'] for g in loaded['data']['groups'] for r in g['rules'])
    assert len(names) == 7 and 'QuickBiteBackendDown' in names
    status = json.loads(urllib.request.urlopen(bed.alertmanager_url + '/api/v2/status', timeout=5).read())
    assert bed.receiver.url in status['config']['original']

    again = run_playbook('monitoring.yml', extra=extra, tmp_path=tmp_path)
    assert again.rc == 0, again.output
    assert [r['changed'] for r in _results(again).values()] == [False, False]


def test_slow_backend_webhook_errors_and_full_disk_fire_then_resolve(stack, bed, disk, tmp_path):
    started = time.monotonic()
    fill = os.path.join(disk, 'fill')
    try:
        _faults(stack, delay_ms=600, webhook_errors=True)
        with open(fill, 'wb') as handle:
            handle.write(b'\0' * (3 << 20))  # 3 of 4 MiB: 75 % > 50 %
        with Traffic(stack):
            for name in ('QuickBiteHighLatency', 'QuickBiteWebhookErrors', 'QuickBiteDiskUsage'):
                bed.receiver.wait(name, 'firing', timeout=40, since=started)
            listed = run_playbook('alerts.yml', extra={
                'quickbite_compose_project_dir': stack['dir'], 'alerts_alertmanager_url': bed.alertmanager_url,
                'alerts_prometheus_url': bed.prometheus_url}, tmp_path=tmp_path)
    finally:
        _faults(stack, delay_ms=0, webhook_errors=False)
        if os.path.exists(fill):
            os.unlink(fill)
    assert listed.rc == 0, listed.output
    report = listed.result('alerts')
    assert report['source'] == 'alertmanager'
    firing = dict((a['name'], a) for a in report['alerts'])
    assert {'QuickBiteHighLatency', 'QuickBiteWebhookErrors', 'QuickBiteDiskUsage'} <= set(firing)
    assert firing['QuickBiteDiskUsage']['playbook'] == 'playbooks/backup_db.yml'
    assert firing['QuickBiteDiskUsage']['runbook_url'].endswith('#database-backup--restore')
    assert 'QuickBiteWebhookErrors [firing]' in listed.output
    restored = time.monotonic()
    for name in ('QuickBiteHighLatency', 'QuickBiteWebhookErrors', 'QuickBiteDiskUsage'):
        bed.receiver.wait(name, 'resolved', timeout=40, since=restored)


def _backend_healthy(stack):
    url = 'http://127.0.0.1:%s/actuator/health' % stack['env']['SERVER_PORT']
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_backend_down_reaches_the_webhook_with_its_runbook_then_resolves(stack, bed):
    stopped = time.monotonic()
    compose('stop', 'backend')
    try:
        at, alert = bed.receiver.wait('QuickBiteBackendDown', 'firing', timeout=30, since=stopped)
    finally:
        compose('start', 'backend')
    took = at - stopped
    # The bound: for: + 2 evaluation intervals + 2 s.
    print('backend stopped -> Backend Down at the webhook receiver: %.1f s (bound %.1f s)'
          % (took, BACKEND_DOWN_FOR + 2 * 1 + 2))
    assert took <= BACKEND_DOWN_FOR + 2 * 1 + 2 + 1  # + the stop itself (docker compose stop, ~1 s)
    assert alert['labels']['severity'] == 'P1'
    assert alert['annotations']['runbook_url'].endswith('#service-restart')
    assert alert['annotations']['playbook'] == 'playbooks/restart.yml'
    wait_until(lambda: _backend_healthy(stack), 60, 'the backend healthy again')
    bed.receiver.wait('QuickBiteBackendDown', 'resolved', timeout=30, since=at)


def _installed(stack, bed, disk, tmp_path):
    """The rules and routing of _vars, installed by the first test of the module or here."""
    if not os.path.exists(bed.rules_file):
        run = run_playbook('monitoring.yml', extra=_vars(stack, bed, disk), tmp_path=tmp_path)
        assert run.rc == 0, run.output


def _ws_open(stack):
    sock = socket.create_connection(('127.0.0.1', int(stack['env']['SERVER_PORT'])), timeout=5)
    sock.sendall(b'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                 b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    assert b' 101 ' in sock.recv(1024).split(b'\r\n')[0]
    return sock


def _value(bed, expr):
    found = bed.query(expr)
    return found[0][1] if found else None


def test_failing_payments_and_dropped_websockets_fire_then_resolve(stack, bed, disk, tmp_path):
    _installed(stack, bed, disk, tmp_path)
    started = time.monotonic()
    sockets = [_ws_open(stack) for _index in range(4)]
    try:
        # 4 sessions seen for the whole window (8 s): a drop below half of that is the alert.
        wait_until(lambda: (_value(bed, 'sum(quickbite_websocket_sessions_active offset 8s)') or 0) >= 4, 30,
                   '4 WebSocket sessions in Prometheus for 8 s')
        with Traffic(stack):
            _faults(stack, fail_payments=True, drop_websockets=True)
            payments = bed.receiver.wait('QuickBitePaymentFailureRate', 'firing', timeout=40, since=started)[1]
            sessions = bed.receiver.wait('QuickBiteWebSocketDisconnects', 'firing', timeout=40, since=started)[1]
            removed = time.monotonic()
            _faults(stack, fail_payments=False, drop_websockets=False)
            bed.receiver.wait('QuickBitePaymentFailureRate', 'resolved', timeout=40, since=removed)
            bed.receiver.wait('QuickBiteWebSocketDisconnects', 'resolved', timeout=40, since=removed)
    finally:
        _faults(stack, fail_payments=False, drop_websockets=False)
        for sock in sockets:
            sock.close()
    assert payments['labels']['severity'] == 'P2'
    assert payments['annotations']['runbook_url'].endswith('#monitoring-alerts')
    assert payments['annotations']['playbook'] == 'playbooks/logs.yml'
    assert sessions['labels']['severity'] == 'P3'
    assert sessions['annotations']['runbook_url'].endswith('#websocket-connections-timing-out')
    # What the backend published meanwhile: failed payments counted, the sessions gone.
    assert _value(bed, 'sum(quickbite_payments_total{outcome="failure"})') > 0
    assert _value(bed, 'sum(quickbite_websocket_sessions_active)') == 0


def test_a_real_oom_kill_fires_oom_killed_then_resolves(stack, bed, disk, tmp_path):
    """Docker 20.10 on cgroup v1 enforces --memory here: the backend, limited to
    96 MiB, leaks 256 MiB (the stand-in's alloc_mb switch) and the kernel kills
    it; the Engine's oom event becomes container_oom_events_total."""
    _installed(stack, bed, disk, tmp_path)
    backend = compose('ps', '-q', 'backend').stdout.split()[0]
    name = json.loads(subprocess.run(['docker', 'inspect', backend], check=True, capture_output=True,
                                     text=True).stdout)[0]['Name'].lstrip('/')
    selector = 'container_oom_events_total{name="%s"}' % name
    before = wait_until(lambda: [_value(bed, selector)], 30, '%s scraped' % selector)[0]
    events_before = _oom_events(bed, name)
    started = time.monotonic()
    subprocess.run(['docker', 'update', '--memory', '96m', '--memory-swap', '96m', backend], check=True,
                   capture_output=True)
    try:
        _faults(stack, alloc_mb=256)
        at, alert = bed.receiver.wait('QuickBiteOOMKilled', 'firing', timeout=40, since=started)
    finally:
        # A new container: no memory limit, healthy.
        compose('up', '-d', '--wait', '--no-deps', '--force-recreate', 'backend')
    print('backend OOM-killed -> OOM Killed at the webhook receiver: %.1f s' % (at - started))
    assert alert['labels']['name'] == name and alert['labels']['severity'] == 'P2'
    assert alert['annotations']['runbook_url'].endswith('#scaling')
    assert alert['annotations']['playbook'] == 'playbooks/scale.yml'
    # The Engine may report one kill as several oom events (cgroup v1 notifies every OOM of the
    # group, and on a busy host the kernel finds the group out of memory again before the victim
    # has gone): the counter follows the Engine's events exactly, and there was at least one.
    events = _oom_events(bed, name) - events_before
    print('oom events for one kill: %d' % events)
    assert events >= 1
    wait_until(lambda: _value(bed, selector) == before + events, 30, '%s = %d' % (selector, before + events))
    bed.receiver.wait('QuickBiteOOMKilled', 'resolved', timeout=40, since=at)


def _oom_events(bed, name):
    """The Engine's oom events for container ``name`` so far, as the bed's stand-in for cAdvisor read them."""
    with bed.oom.lock:
        return bed.oom.counts.get(name, 0)


def test_a_prometheus_without_the_lifecycle_api_is_reloaded_by_sighup(tmp_path):
    """No stack: a Prometheus of its own, started as a packaged one is (no
    --web.enable-lifecycle, a pid file). The HTTP reload is refused with the
    way forward; SIGHUP reloads it, then nothing is signalled again."""
    server = Prometheus(str(tmp_path / 'prometheus'))
    try:
        inventory = tmp_path / 'hosts.yml'
        inventory.write_text(json.dumps({'quickbite': {'hosts': {'monitoring-1': {
            'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}',
            'quickbite_platform': 'compose', 'quickbite_compose_project_dir': str(tmp_path)}}}}))
        extra = {'monitoring_rules_file': os.path.join(server.rules_dir, 'quickbite.rules.yml'),
                 'monitoring_prometheus_url': server.url}
        refused = run_playbook('monitoring.yml', inventory=str(inventory), extra=extra, tmp_path=tmp_path)
        assert refused.rc != 0 and 'start the server with --web.enable-lifecycle' in refused.output, refused.output
        assert server.alerts_loaded() == []

        before = server.runtimeinfo()['lastConfigTime']
        extra.update(monitoring_prometheus_reload='sighup', monitoring_prometheus_pid_file=server.pid_file)
        run = run_playbook('monitoring.yml', inventory=str(inventory), extra=extra, tmp_path=tmp_path)
        assert run.rc == 0, run.output
        result = _results(run)['Install the alerting rules']
        # The file was written by the refused run; the server did not hold it, so it is reloaded now.
        assert result['reload'] == 'sighup' and result['reloaded'] is True
        assert len(server.alerts_loaded()) == 7 and 'QuickBiteOOMKilled' in server.alerts_loaded()
        info = server.runtimeinfo()
        assert info['lastConfigTime'] != before and info['reloadConfigSuccess'] is True

        again = run_playbook('monitoring.yml', inventory=str(inventory), extra=extra, tmp_path=tmp_path)
        assert again.rc == 0, again.output
        assert _results(again)['Install the alerting rules']['changed'] is False
        assert _results(again)['Install the alerting rules']['reloaded'] is False
        assert server.runtimeinfo()['lastConfigTime'] == info['lastConfigTime']
    finally:
        server.stop()
