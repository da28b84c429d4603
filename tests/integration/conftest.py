"""Fixtures that run the real playbooks against the reference Compose stack
and the Kubernetes emulator."""
import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# Two reference stacks, each its own Compose project, directory, ports and lock, so
# that make test runs the stack tests in two lanes (scripts/test.sh; conftest.py at
# the root says which modules run on the second). QUICKBITE_STACK=b picks the second;
# every stack test runs on either, and reads the names and ports below, never literals.
# stack/profiles holds them, for scripts/stack.sh too.


def _profiles():
    with open(os.path.join(ROOT, 'stack', 'profiles')) as handle:
        rows = [line.split() for line in handle if line.strip() and not line.startswith('#')]
    return dict((row[0], dict(project=row[1], dir=row[2], ports=tuple(int(p) for p in row[3:7]), lock=row[7]))
                for row in rows)


STACKS = _profiles()
STACK_NAME = os.environ.get('QUICKBITE_STACK', 'a')
if STACK_NAME not in STACKS:
    raise SystemExit('QUICKBITE_STACK=%s: give %s (stack/profiles)' % (STACK_NAME, ' or '.join(sorted(STACKS))))
STACK_DIR = os.environ.get('QUICKBITE_STACK_DIR', STACKS[STACK_NAME]['dir'])
STACK_LOCK = os.environ.get('QUICKBITE_STACK_LOCK', STACKS[STACK_NAME]['lock'])
STACK_PROJECT = STACKS[STACK_NAME]['project']
PG_PORT, REDIS_PORT, BACKEND_PORT, FRONTEND_PORT = STACKS[STACK_NAME]['ports']
BACKEND_URL = 'http://127.0.0.1:%d' % BACKEND_PORT
FRONTEND_URL = 'http://127.0.0.1:%d' % FRONTEND_PORT
VENV_BIN = os.path.dirname(sys.executable)


class PlaybookRun(object):
    def __init__(self, proc, records):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.records = records

    def result(self, action):
        """The last result of a task using ``action`` (module FQCN or short name)."""
        for record in reversed(self.records):
            if record['action'].endswith(action):
                return record['result']
        raise AssertionError('no %s result in the run:\n%s' % (action, self.output[-3000:]))


def _refuse_without_stack(what):
    """make test runs the tests without the `stack` marker beside the stack tests,
    without the stack lock: one of them touching the demo stack would race them."""
    if os.environ.get('QUICKBITE_TESTS_WITHOUT_STACK') == '1':
        raise AssertionError('refusing %s: this test runs in the no-stack group (make test runs it beside the stack '
                             'tests, without the stack lock); give it the `stack` fixture (or demo_vars, which takes '
                             'it), so that it runs in the stack group' % what)


def container(service, index=1):
    """The name Compose gives a service's container on this stack."""
    if service == 'frontend':  # container_name: ${COMPOSE_PROJECT_NAME}-frontend
        return '%s-frontend' % STACK_PROJECT
    return '%s-%s-%d' % (STACK_PROJECT, service, index)


def demo_inventory():
    """inventory/demo, or for the second stack a copy of it with that stack's
    directory, project and ports (under build/, written once per session)."""
    if STACK_NAME == 'a' and STACK_DIR == STACKS['a']['dir']:
        return 'inventory/demo'
    path = os.path.join(ROOT, 'build', 'inventory-%s' % STACK_NAME)
    if not os.path.isdir(os.path.join(path, 'group_vars')):
        import yaml
        with open(os.path.join(ROOT, 'inventory', 'demo', 'group_vars', 'quickbite.yml')) as handle:
            values = yaml.safe_load(handle)
        values.update(quickbite_compose_project_dir=STACK_DIR, quickbite_compose_project_name=STACK_PROJECT,
                      quickbite_backend_url=BACKEND_URL, quickbite_frontend_url=FRONTEND_URL,
                      quickbite_db_port=PG_PORT, quickbite_redis_port=REDIS_PORT,
                      quickbite_backup_dir=os.path.join(STACK_DIR, 'backups'))
        tmp = '%s.%d' % (path, os.getpid())
        os.makedirs(os.path.join(tmp, 'group_vars'))
        with open(os.path.join(ROOT, 'inventory', 'demo', 'hosts.yml')) as src, \
                open(os.path.join(tmp, 'hosts.yml'), 'w') as dst:
            dst.write(src.read())
        with open(os.path.join(tmp, 'group_vars', 'quickbite.yml'), 'w') as handle:
            handle.write('---\n' + yaml.safe_dump(values, default_flow_style=False))
        os.rename(tmp, path)
    return path


def run_playbook(playbook, inventory='inventory/demo', extra=None, check=False, verbosity=0, env=None,
                 tmp_path=None):
    if inventory == 'inventory/demo':
        _refuse_without_stack('to run %s on the demo stack' % playbook)
        inventory = demo_inventory()
    record = os.path.join(str(tmp_path) if tmp_path else '/tmp', 'record-%d.jsonl' % os.getpid())
    if os.path.exists(record):
        os.unlink(record)
    argv = [os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, 'playbooks', playbook),
            '-i', os.path.join(ROOT, inventory)]
    for key, value in (extra or {}).items():
        argv += ['-e', json.dumps({key: value})]
    if check:
        argv.append('--check')
    if verbosity:
        argv.append('-' + 'v' * verbosity)
    environ = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'tests', 'integration', 'callback_plugins'),
                   ANSIBLE_CALLBACKS_ENABLED='record', QUICKBITE_RECORD_FILE=record, ANSIBLE_NOCOLOR='1',
                   ANSIBLE_FORCE_COLOR='0')
    environ.update(env or {})
    proc = subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600, check=False)
    records = []
    if os.path.exists(record):
        with open(record) as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        os.unlink(record)
    return PlaybookRun(proc, records)


def backend_health():
    """The backend's actuator status on this stack ('UP', 'DOWN'...), or None
    while it does not answer."""
    import urllib.request
    try:
        with urllib.request.urlopen(BACKEND_URL + '/actuator/health', timeout=5) as response:
            return json.loads(response.read().decode())['status']
    except (OSError, ValueError):  # refused, or 503 while it is DOWN
        return None


def compose(*args):
    _refuse_without_stack('docker compose %s on the demo stack' % ' '.join(args))
    argv = ['docker', 'compose', '-p', STACK_PROJECT, '-f', os.path.join(STACK_DIR, 'docker-compose.prod.yml'),
            '--env-file', os.path.join(STACK_DIR, '.env.prod')] + list(args)
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='session')
def stack_lock():
    """One pytest session at a time touches the shared demo stack: a second
    session (another checkout, a helper) waits here instead of breaking the
    first one's restarts and rotations."""
    handle = open(STACK_LOCK, 'w')
    started = time.time()
    fcntl.flock(handle, fcntl.LOCK_EX)
    _LOCK_WAITS.append(time.time() - started)
    yield
    handle.close()


_LOCK_WAITS = []


@pytest.fixture(scope='module', autouse=True)
def _stack_lock_for_every_stack_test(request):
    """The stack lock for a module whose selected tests use the stack, before its
    module fixtures run: also where a module defines a `stack` fixture of its own
    (test_stack.py), which does not ask for stack_lock."""
    if any(item.module is request.module and item.get_closest_marker('stack') for item in request.session.items):
        request.getfixturevalue('stack_lock')


def pytest_terminal_summary(terminalreporter):
    """Say how long the session waited for the stack lock: that wait is counted
    in the setup time of its first stack test (--durations)."""
    if _LOCK_WAITS and _LOCK_WAITS[0] >= 1:
        terminalreporter.write_line('waited %.1f s for the stack lock (another session held it); counted in the '
                                    'setup time of the first test that uses the stack' % _LOCK_WAITS[0])


@pytest.fixture(scope='session')
def stack(stack_lock):
    """The reference stack, up and healthy (started once per session)."""
    env = dict(os.environ, QUICKBITE_STACK=STACK_NAME)
    subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'stack.sh'), 'up', STACK_DIR], check=True, timeout=900,
                   env=env)
    # Read as Compose reads it (the collection's parser, checked against Compose
    # itself): a test that rewrote a line in another valid form leaves it readable.
    from ansible_collections.quickbite.ops.plugins.module_utils import envfile
    with open(os.path.join(STACK_DIR, '.env.prod'), 'rb') as handle:
        env = envfile.parse(handle.read().decode('utf-8'))
    return dict(dir=STACK_DIR, env=env)


@pytest.fixture
def dest(tmp_path):
    """A backup directory of the test's own (created 0700 by the backup)."""
    return str(tmp_path / 'backups')


@pytest.fixture
def demo_vars(stack):
    return {'quickbite_compose_project_dir': stack['dir']}


def descendants(pid):
    """PIDs of every live process below ``pid`` (children, their children...),
    found by walking parent links in /proc. Ansible runs a module in a session
    of its own, so the playbook's process group does not hold it; its parent
    chain does."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (IOError, OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] != 'Z':
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


def _argv(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace').split('\0')[:-1]
    except (IOError, OSError):
        return []


def _alive(pid):
    """Running, not yet exited: a zombie has closed its files and released its locks."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (IOError, OSError, IndexError):
        return False


def wait_gone(pids, timeout=30):
    """Wait until none of ``pids`` runs any more (files closed, locks released)."""
    deadline = time.time() + timeout
    while any(_alive(pid) for pid in pids):
        if time.time() > deadline:
            raise AssertionError('processes %s still run after %s s' % ([p for p in pids if _alive(p)], timeout))
        time.sleep(0.01)


def kill_module(proc, module_name, sig=signal.SIGKILL, timeout=30):
    """Send ``sig`` to the Ansible module ``module_name`` run by the playbook
    ``proc`` (a Popen this test started, ideally with start_new_session=True):
    the interpreter running AnsiballZ_<module_name>.py below ``proc``, never
    another run's module (as ``pkill -f`` would) nor the chmod/rm of its files.
    Waits up to ``timeout`` s for the module to start; returns the PIDs
    signalled ([] when the playbook ended without running it)."""
    suffix = '/AnsiballZ_%s.py' % module_name

    def running_module(argv):
        return len(argv) > 1 and os.path.basename(argv[0]).startswith('python') and argv[-1].endswith(suffix)

    deadline = time.time() + timeout
    while True:
        pids = [pid for pid in descendants(proc.pid) if running_module(_argv(pid))]
        if pids or proc.poll() is not None or time.time() > deadline:
            break
        time.sleep(0.05)  # each look reads every /proc/<pid>/stat
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass  # ended meanwhile
    return pids


def kill_at_phase(playbook, extra, pending_path, module_name, phase='set', inventory='inventory/demo'):
    """Start a playbook and SIGKILL it, module included, once the rotation's
    pending state reaches ``phase``: a run killed mid-rotation. Returns once
    every killed process has ended (its locks released)."""
    if inventory == 'inventory/demo':
        _refuse_without_stack('to run %s on the demo stack' % playbook)
    argv = [os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, 'playbooks', playbook),
            '-i', os.path.join(ROOT, inventory)]
    for key, value in extra.items():
        argv += ['-e', json.dumps({key: value})]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg')))
    deadline = time.time() + 60
    reached = False
    while time.time() < deadline and not reached:
        try:
            with open(pending_path) as handle:
                reached = json.load(handle)['phase'] == phase
        except (IOError, ValueError):
            pass
        if not reached:
            time.sleep(0.005)  # a poll, not a busy loop beside the module it waits for
    # Ansible runs the module in a session of its own: found below the playbook by PID.
    killed = kill_module(proc, module_name, signal.SIGKILL, timeout=0)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_gone(killed)
    return reached


@pytest.fixture
def k8s(cluster):
    """The test module's emulator (its module-scoped ``cluster`` fixture,
    k8s_defaults.emulator), reset before the test."""
    cluster.emulator.reset()
    yield cluster
