"""Real monitoring beside the demo stack, for the tests and benchmarks/alerts:
Prometheus 2.42, Alertmanager 0.25 and node_exporter from Debian's packages,
started as processes on 127.0.0.1 (free ports, files in a directory of the
caller's), scraping the demo backend's /actuator/prometheus; and a webhook
receiver (an HTTP server in this process) that records what Alertmanager
sends. Nothing joins the compose project: `stack-up` is not slowed down.

OOM kills on Compose: the rules name cAdvisor's ``container_oom_events_total``
(label ``name``: the container's name), and Debian packages no cAdvisor. So the
bed publishes that metric from the Docker Engine's own ``oom`` events
(OomEvents: ``docker events``), through node_exporter's textfile collector,
0 for each container of the project from the start (as cAdvisor does, so that
increase() sees the first kill).

    with Bed(workdir, backend='127.0.0.1:18080', mountpoint='/tmp/x') as bed:
        bed.receiver.wait('QuickBiteBackendDown', 'firing')

Each process is stopped by its own PID (the Popen this module started)."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMETHEUS = '/usr/bin/prometheus'
ALERTMANAGER = '/usr/bin/prometheus-alertmanager'
NODE_EXPORTER = '/usr/bin/prometheus-node-exporter'
INTERVAL = '1s'  # scrape and evaluation interval of the bed


def _die_with_parent():
    """In the child, before exec: SIGTERM when the process that started it
    dies (Linux PR_SET_PDEATHSIG), so a killed test run leaves no server behind."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def get_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_until(condition, timeout, what):
    """Poll ``condition`` (every 50 ms) until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except (OSError, ValueError, urllib.error.URLError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %s s' % (what, timeout))
        time.sleep(0.05)


class Receiver(object):
    """A generic webhook receiver: keeps every notification Alertmanager posts."""

    def __init__(self):
        self.notifications = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                with receiver.lock:
                    receiver.notifications.append((time.monotonic(), json.loads(body)))
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/alerts' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()

    def alerts(self, since=0.0):
        """(arrival time, alert) of every alert notified after ``since``."""
        with self.lock:
            return [(at, alert) for at, payload in self.notifications if at >= since
                    for alert in payload.get('alerts', [])]

    def find(self, name, status, since=0.0):
        for at, alert in self.alerts(since):
            if alert['labels'].get('alertname') == name and alert['status'] == status:
                return at, alert
        return None

    def wait(self, name, status, timeout=30, since=0.0):
        return wait_until(lambda: self.find(name, status, since), timeout, '%s %s at the webhook receiver'
                          % (name, status))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class OomEvents(object):
    """``container_oom_events_total{name}`` of the containers of compose project
    ``project``, counted from the Engine's ``oom`` events (``docker events``),
    written atomically to ``directory``/oom.prom for node_exporter's textfile
    collector."""

    def __init__(self, directory, project='quickbite'):
        self.path = os.path.join(directory, 'oom.prom')
        self.counts = {}
        self.lock = threading.Lock()
        names = subprocess.run(['docker', 'ps', '-a', '--filter', 'label=com.docker.compose.project=%s' % project,
                                '--format', '{{.Names}}'], check=True, capture_output=True, text=True).stdout.split()
        for name in names:
            self.counts[name] = 0
        self.proc = subprocess.Popen(['docker', 'events', '--filter', 'type=container', '--filter', 'event=oom',
                                      '--filter', 'label=com.docker.compose.project=%s' % project,
                                      '--format', '{{json .}}'], stdout=subprocess.PIPE, text=True,
                                     start_new_session=True, preexec_fn=_die_with_parent)
        self._write()
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self):
        for line in self.proc.stdout:
            try:
                name = json.loads(line)['Actor']['Attributes']['name']
            except (ValueError, KeyError):
                continue
            with self.lock:
                self.counts[name] = self.counts.get(name, 0) + 1
            self._write()

    def _write(self):
        with self.lock:
            lines = ['# HELP container_oom_events_total Count of out of memory events observed for the container',
                     '# TYPE container_oom_events_total counter']
            lines += ['container_oom_events_total{name="%s"} %d' % item for item in sorted(self.counts.items())]
        with open(self.path + '.tmp', 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.rename(self.path + '.tmp', self.path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


class Prometheus(object):
    """One Prometheus alone with the bed's intervals, started like a packaged
    one without --web.enable-lifecycle: its pid file (as Debian's init script
    writes it) is the way to reload it, by SIGHUP."""

    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.rules_dir = os.path.join(workdir, 'rules')
        self.pid_file = os.path.join(workdir, 'prometheus.pid')
        os.makedirs(self.rules_dir, 0o700, exist_ok=True)
        with open(os.path.join(workdir, 'prometheus.yml'), 'w') as handle:
            json.dump({'global': {'scrape_interval': INTERVAL, 'evaluation_interval': INTERVAL},
                       'rule_files': [os.path.join(self.rules_dir, '*.yml')]}, handle)
        log = open(os.path.join(workdir, 'prometheus.log'), 'w')
        self.proc = subprocess.Popen([
            PROMETHEUS, '--config.file=' + os.path.join(workdir, 'prometheus.yml'),
            '--storage.tsdb.path=' + os.path.join(workdir, 'tsdb'),
            '--web.listen-address=127.0.0.1:%d' % self.port], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        with open(self.pid_file, 'w') as handle:
            handle.write('%d\n' % self.proc.pid)
        wait_until(lambda: get_json(self.url + '/api/v1/status/runtimeinfo'), 30, 'Prometheus answering')

    def runtimeinfo(self):
        return get_json(self.url + '/api/v1/status/runtimeinfo')['data']

    def alerts_loaded(self):
        return sorted(r['name'] for g in get_json(self.url + '/api/v1/rules')['data']['groups'] for r in g['rules'])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Bed(object):
    def __init__(self, workdir, backend, mountpoint=None):
        self.dir = workdir
        self.backend = backend
        self.mountpoint = mountpoint
        self.procs = []
        self.oom = None
        self.textfile_dir = os.path.join(workdir, 'textfile')
        self.ports = dict(prometheus=free_port(), alertmanager=free_port(), node=free_port())
        self.prometheus_url = 'http://127.0.0.1:%d' % self.ports['prometheus']
        self.alertmanager_url = 'http://127.0.0.1:%d' % self.ports['alertmanager']
        self.rules_dir = os.path.join(workdir, 'rules')
        self.rules_file = os.path.join(self.rules_dir, 'quickbite.rules.yml')
        self.alertmanager_file = os.path.join(workdir, 'alertmanager', 'alertmanager.yml')
        self.receiver = None

    def _write(self, path, text):
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path), 0o700)
        with open(path, 'w') as handle:
            handle.write(text)

    def _start(self, name, argv):
        log = open(os.path.join(self.dir, name + '.log'), 'w')
        self.procs.append((name, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                                  start_new_session=True, preexec_fn=_die_with_parent)))
        log.close()

    def start(self):
        os.makedirs(self.rules_dir, 0o700, exist_ok=True)
        os.makedirs(self.textfile_dir, 0o700, exist_ok=True)
        self.oom = OomEvents(self.textfile_dir)
        self.receiver = Receiver()
        self._write(os.path.join(self.dir, 'prometheus.yml'), json.dumps({
            'global': {'scrape_interval': INTERVAL, 'evaluation_interval': INTERVAL, 'scrape_timeout': INTERVAL},
            'rule_files': [os.path.join(self.rules_dir, '*.yml')],
            'alerting': {'alertmanagers': [{'static_configs': [{'targets': ['127.0.0.1:%d' % self.ports['alertmanager']]}]}]},
            'scrape_configs': [
                {'job_name': 'quickbite-backend', 'metrics_path': '/actuator/prometheus',
                 'static_configs': [{'targets': [self.backend]}]},
                {'job_name': 'node', 'static_configs': [{'targets': ['127.0.0.1:%d' % self.ports['node']]}]},
            ]}))
        # A placeholder until the role installs the routing: nobody is notified.
        self._write(self.alertmanager_file, json.dumps({'route': {'receiver': 'none'}, 'receivers': [{'name': 'none'}]}))
        self._start('prometheus', [
            PROMETHEUS, '--config.file=' + os.path.join(self.dir, 'prometheus.yml'),
            '--storage.tsdb.path=' + os.path.join(self.dir, 'tsdb'),
            '--web.listen-address=127.0.0.1:%d' % self.ports['prometheus'], '--web.enable-lifecycle',
            '--rules.alert.resend-delay=1s'])
        self._start('alertmanager', [
            ALERTMANAGER, '--config.file=' + self.alertmanager_file, '--storage.path=' + os.path.join(self.dir, 'am'),
            '--web.listen-address=127.0.0.1:%d' % self.ports['alertmanager'], '--cluster.listen-address='])
        node = [NODE_EXPORTER, '--web.listen-address=127.0.0.1:%d' % self.ports['node'],
                '--collector.disable-defaults', '--collector.filesystem', '--collector.textfile',
                '--collector.textfile.directory=' + self.textfile_dir]
        self._start('node_exporter', node)
        wait_until(lambda: get_json(self.prometheus_url + '/api/v1/status/buildinfo'), 30, 'Prometheus answering')
        wait_until(lambda: get_json(self.alertmanager_url + '/api/v2/status'), 30, 'Alertmanager answering')
        return self

    def stop(self):
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.receiver:
            self.receiver.close()
        if self.oom:
            self.oom.stop()

    def logs(self):
        text = []
        for name, _proc in self.procs:
            with open(os.path.join(self.dir, name + '.log')) as handle:
                text.append('== %s\n%s' % (name, handle.read()[-3000:]))
        return '\n'.join(text)

    def query(self, expr):
        """The instant vector of ``expr``: [(labels, float value)]."""
        answer = get_json(self.prometheus_url + '/api/v1/query?' + urllib.parse.urlencode({'query': expr}))
        return [(r['metric'], float(r['value'][1])) for r in answer['data']['result']]

    def up(self, job):
        """The last `up` of ``job`` Prometheus scraped (None before the first scrape)."""
        answer = get_json(self.prometheus_url + '/api/v1/query?query=up%7Bjob%3D%22' + job + '%22%7D')
        result = answer['data']['result']
        return float(result[0]['value'][1]) if result else None

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False
