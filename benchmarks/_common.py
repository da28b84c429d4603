"""Shared helpers for benchmarks: timing whole commands, reading the demo env."""
import os
import statistics
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
VENV_BIN = os.path.join(ROOT, '.venv', 'bin')
STACK_DIR = os.environ.get('QUICKBITE_STACK_DIR', '/var/lib/quickbite/demo')


def read_env(path=None):
    values = {}
    with open(path or os.path.join(STACK_DIR, '.env.prod')) as handle:
        for line in handle:
            if '=' in line and not line.lstrip().startswith('#'):
                key, value = line.rstrip('\n').split('=', 1)
                values[key] = value
    return values


def timed(commands, env=None):
    """Wall time of a list of argv lists run one after another; each must succeed."""
    started = time.perf_counter()
    for argv in commands:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, **(env or {})), cwd=ROOT)
    return time.perf_counter() - started


def cpu_seconds():
    """User and system CPU time of every finished child process so far."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def interleaved(rows, runs):
    """rows: [(name, function returning seconds)]. One warm-up round, then
    ``runs`` rounds running each row once, so a busy neighbour weighs on every
    row alike. Returns [{name, median, min, max, cpu}] (cpu: median CPU seconds
    of the processes a run started)."""
    for dummy, function in rows:
        function()
    walls = dict((name, []) for name, dummy in rows)
    cpus = dict((name, []) for name, dummy in rows)
    for dummy in range(runs):
        for name, function in rows:
            before = cpu_seconds()
            walls[name].append(function())
            cpus[name].append(cpu_seconds() - before)
    return [dict(name=name, median=statistics.median(walls[name]), min=min(walls[name]), max=max(walls[name]),
                 cpu=statistics.median(cpus[name])) for name, dummy in rows]


def measure(name, commands, runs, env=None):
    timed(commands, env)  # warm-up: page cache, Python bytecode
    samples = [timed(commands, env) for dummy in range(runs)]
    return dict(name=name, median=statistics.median(samples), min=min(samples), max=max(samples))


def playbook(path, *extra):
    return [os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, path), '-i',
            os.path.join(ROOT, 'inventory', 'demo'), '-e', 'quickbite_compose_project_dir=' + STACK_DIR] + list(extra)


def print_table(rows, width=44):
    cpu = all('cpu' in row for row in rows)
    print('%-*s %8s %8s %8s%s' % (width, 'what', 'median', 'min', 'max', ' %8s' % 'CPU' if cpu else ''))
    for row in rows:
        extra = ' %7.2fs' % row['cpu'] if cpu else ''
        print('%-*s %7.2fs %7.2fs %7.2fs%s' % (width, row['name'], row['median'], row['min'], row['max'], extra))
