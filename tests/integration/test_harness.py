"""The test harness itself: how make test sorts tests into its stack and
no-stack groups (conftest.py's `stack` marker), the guard against a no-stack
test touching the demo stack, and conftest.kill_module, which finds a module
below the playbook a test started, by PID, so it never hits another run's
module of the same name (what `pkill -f AnsiballZ_...` did)."""
import fcntl
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, VENV_BIN, compose, descendants, kill_module, run_playbook, wait_gone


def _collected(*args):
    proc = subprocess.run([os.path.join(VENV_BIN, 'pytest'), '--collect-only', '-q', '-p', 'no:cacheprovider'] + list(args),
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    return set(line for line in proc.stdout.splitlines() if '::' in line)


def _files(ids):
    return set(i.split('::')[0].rsplit('/', 1)[-1] for i in ids)


def test_the_stack_marker_follows_the_fixtures_a_test_uses():
    paths = ['tests/integration/%s.py' % name for name in (
        'test_stack', 'test_healthcheck_k8s', 'test_flyway_repair_k8s', 'test_k8s_emulator', 'test_service_ops_k8s',
        'test_harness', 'test_logs')]
    stack = _collected('-m', 'stack', *paths)
    rest = _collected('-m', 'not stack', *paths)
    assert stack and rest and not stack & rest
    # A k8s test that uses the stack (through the `stack` fixture) waits for the stack lock too; one that
    # has a throw-away PostgreSQL of its own (k8s_pg) does not.
    assert {'test_stack.py', 'test_healthcheck_k8s.py'} <= _files(stack)
    assert {'test_k8s_emulator.py', 'test_service_ops_k8s.py', 'test_harness.py',
            'test_flyway_repair_k8s.py'} <= _files(rest)
    # One file, both groups: the Compose tests of test_logs.py use the stack, its emulator tests do not;
    # test_healthcheck_k8s.py's healthy namespace reads the stack's passwords, its platform checks do not.
    assert {'test_logs.py', 'test_healthcheck_k8s.py'} <= _files(stack) & _files(rest)


def test_a_module_with_a_stack_fixture_of_its_own_waits_for_the_stack_lock(tmp_path):
    """test_stack.py defines its own `stack` fixture, which takes no lock: the
    conftests take it for every module whose selected tests use the stack."""
    for name in ('conftest.py', 'tests/integration/conftest.py', 'stack/profiles'):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(open(os.path.join(ROOT, name)).read())
    (tmp_path / 'tests/integration/test_own_stack.py').write_text(
        'import time\nimport pytest\n\n\n@pytest.fixture(scope="module")\ndef stack():\n    yield time.time()\n\n\n'
        'def test_uses_it(stack):\n    print("STACK-AT %f" % stack)\n')
    lock = str(tmp_path / 'stack.lock')
    env = dict(os.environ, QUICKBITE_STACK_LOCK=lock)
    env.pop('QUICKBITE_TESTS_WITHOUT_STACK', None)
    # Another session holds the lock until the new one is seen waiting for it (its blocked
    # flock in /proc/locks), then 1.5 s more: no race with pytest's start-up on a busy machine.
    holder = open(lock, 'w')
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        proc = subprocess.Popen([os.path.join(VENV_BIN, 'pytest'), '-q', '-s', '-p', 'no:cacheprovider', '-m', 'stack',
                                 'tests/integration'], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while not _blocked_on(os.fstat(holder.fileno()).st_ino) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, 'the second session never waited for the lock'
        time.sleep(1.5)
        released = time.time()
    finally:
        holder.close()
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0 and '1 passed' in stdout, stdout + stderr
    stack_at = float(re.search(r'STACK-AT ([0-9.]+)', stdout).group(1))
    assert stack_at >= released and 'for the stack lock' in stdout, stdout


def _blocked_on(inode):
    """Whether some process waits for an flock on this inode ('->' lines of /proc/locks)."""
    with open('/proc/locks') as handle:
        return any('->' in line and line.split()[6].endswith(':%d' % inode) for line in handle)


def test_a_no_stack_test_touching_the_demo_stack_is_refused(monkeypatch):
    monkeypatch.setenv('QUICKBITE_TESTS_WITHOUT_STACK', '1')
    with pytest.raises(AssertionError, match='no-stack group.*give it the `stack` fixture'):
        compose('ps')
    with pytest.raises(AssertionError, match='refusing to run healthcheck.yml on the demo stack'):
        run_playbook('healthcheck.yml')


def test_kill_module_hits_the_module_below_the_playbook_never_another_runs(tmp_path):
    # Another run's module of the same name, in a session of its own.
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', str(tmp_path / 'AnsiballZ_command.py')],
                             start_new_session=True)
    proc = subprocess.Popen([os.path.join(VENV_BIN, 'ansible'), 'localhost', '-c', 'local', '-m', 'ansible.builtin.command',
                             '-a', 'sleep 120', '-e', 'ansible_python_interpreter=' + sys.executable],
                            cwd=str(tmp_path), start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg')))
    try:
        found = kill_module(proc, 'command', sig=0)  # signal 0: find it, send nothing
        assert len(found) == 1 and found[0] != other.pid and found[0] in descendants(proc.pid)
        # Ansible runs it in another session: killing the playbook's process group misses it.
        assert os.getsid(found[0]) != os.getsid(proc.pid)
        assert kill_module(proc, 'command', signal.SIGKILL) == found
        wait_gone(found, timeout=10)
        output = proc.communicate(timeout=60)[0]
        assert proc.returncode != 0 and 'rc: 137' in output, output[-2000:]  # SIGKILLed
        assert other.poll() is None  # the other run's module still runs
    finally:
        for victim in (proc, other):
            if victim.poll() is None:
                victim.kill()
            victim.wait()


def test_kill_module_finds_nothing_when_the_playbook_has_ended(tmp_path):
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    assert kill_module(proc, 'command', signal.SIGKILL, timeout=5) == []


def test_the_second_stack_modules_name_no_port_or_container_of_the_first():
    """make test runs SECOND_STACK_MODULES on the second stack (QUICKBITE_STACK=b): a
    literal port, project or container name of the first would reach the first stack,
    which the stack lane is using at the same time."""
    spec = importlib.util.spec_from_file_location('root_conftest', os.path.join(ROOT, 'conftest.py'))
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    literal = re.compile(r"\b(15432|16379|18080|18081)\b|'-p', 'quickbite'|quickbite-(backend|postgres|redis)-\d"
                         r"|'quickbite-frontend'|'inventory/demo'|/var/lib/quickbite/demo\b")
    found = []
    for name in sorted(root_conftest.SECOND_STACK_MODULES | {'dbtools'}):
        with open(os.path.join(ROOT, 'tests', 'integration', name + '.py')) as handle:
            found += ['%s.py:%d: %s' % (name, number, line.strip()) for number, line in enumerate(handle, 1)
                      if literal.search(line) and 'run_playbook(' not in line]
    assert not found, 'use conftest.PG_PORT, BACKEND_URL, STACK_PROJECT, container()...:\n' + '\n'.join(found)
