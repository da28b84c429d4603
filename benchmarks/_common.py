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


def measure(name, commands, runs, env=None):
    timed(commands, env)  # warm-up: page cache, Python bytecode
    samples = [timed(commands, env) for dummy in range(runs)]
    return dict(name=name, median=statistics.median(samples), min=min(samples), max=max(samples))


def playbook(path, *extra):
    return [os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, path), '-i',
            os.path.join(ROOT, 'inventory', 'demo'), '-e', 'quickbite_compose_project_dir=' + STACK_DIR] + list(extra)


def print_table(rows):
    print('%-44s %8s %8s %8s' % ('what', 'median', 'min', 'max'))
    for row in rows:
        print('%-44s %7.2fs %7.2fs %7.2fs' % (row['name'], row['median'], row['min'], row['max']))
