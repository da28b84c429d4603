"""Fixtures that run the real playbooks against the reference Compose stack
and the Kubernetes emulator."""
import fcntl
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
STACK_DIR = os.environ.get('QUICKBITE_STACK_DIR', '/var/lib/quickbite/demo')
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


def run_playbook(playbook, inventory='inventory/demo', extra=None, check=False, verbosity=0, env=None,
                 tmp_path=None):
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


def compose(*args):
    argv = ['docker', 'compose', '-p', 'quickbite', '-f', os.path.join(STACK_DIR, 'docker-compose.prod.yml'),
            '--env-file', os.path.join(STACK_DIR, '.env.prod')] + list(args)
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='session')
def stack_lock():
    """One pytest session at a time touches the shared demo stack: a second
    session (another checkout, a helper) waits here instead of breaking the
    first one's restarts and rotations."""
    handle = open('/tmp/quickbite-stack.lock', 'w')
    fcntl.flock(handle, fcntl.LOCK_EX)
    yield
    handle.close()


@pytest.fixture(scope='session')
def stack(stack_lock):
    """The reference stack, up and healthy (started once per session)."""
    subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'stack.sh'), 'up', STACK_DIR], check=True, timeout=900)
    env = {}
    with open(os.path.join(STACK_DIR, '.env.prod')) as handle:
        for line in handle:
            if '=' in line and not line.lstrip().startswith('#'):
                key, value = line.rstrip('\n').split('=', 1)
                env[key] = value
    return dict(dir=STACK_DIR, env=env)


@pytest.fixture
def demo_vars(stack):
    return {'quickbite_compose_project_dir': stack['dir']}


def kill_at_phase(playbook, extra, pending_path, module_name, phase='set', inventory='inventory/demo'):
    """Start a playbook and SIGKILL it, module included, once the rotation's
    pending state reaches ``phase``: a run killed mid-rotation."""
    import signal
    import time
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
            time.sleep(0.02)
    # Ansible runs the module in a session of its own: kill it by name too.
    subprocess.run(['pkill', '-KILL', '-f', 'AnsiballZ_' + module_name], check=False)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    return reached
