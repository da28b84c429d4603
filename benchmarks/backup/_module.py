"""quickbite.ops.pg_backup and pg_restore run as `ansible localhost -m`, for
the benchmark. Written against modules that may not exist yet: options the
module does not document are left out, and a missing module is reported as
skipped rather than failing the benchmark."""
import json
import os
import re
import subprocess
import tempfile
import time

from _common import ROOT, VENV_BIN

MODULES = os.path.join(ROOT, 'plugins', 'modules')


def available(name):
    return os.path.exists(os.path.join(MODULES, name + '.py'))


def _documented(name, option, root=ROOT):
    """Whether the module or one of its quickbite.ops doc fragments documents ``option``."""
    with open(os.path.join(root, 'plugins', 'modules', name + '.py')) as handle:
        texts = [handle.read()]
    for fragment in re.findall(r'- quickbite\.ops\.(\w+)', texts[0]):
        path = os.path.join(root, 'plugins', 'doc_fragments', fragment + '.py')
        if os.path.exists(path):
            with open(path) as handle:
                texts.append(handle.read())
    return any(('\n  %s:\n' % option) in text for text in texts)


def run(name, args, pg_bin, root=ROOT):
    """(wall seconds of the ansible command, module result dict); raises
    RuntimeError on failure. ``root``: a checkout of the collection whose
    ansible.cfg finds it (another commit's, for ab_restore)."""
    args = dict((key, value) for key, value in args.items()
                if _documented(name, key, root))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(root, 'ansible.cfg'), ANSIBLE_CALLBACK_RESULT_FORMAT='json',
               ANSIBLE_NOCOLOR='1',
               PATH=pg_bin + os.pathsep + VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
    argv = [os.path.join(VENV_BIN, 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=' + os.path.join(VENV_BIN, 'python'), '-m', 'quickbite.ops.' + name,
            '-a', json.dumps(args)]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        returncode = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode(errors='replace')
    # the ad-hoc output: "localhost | CHANGED => {...}", warnings and errors around it
    match = re.search(r'^localhost \| [A-Z!]+ => ', text, re.M)
    try:
        result = json.JSONDecoder().raw_decode(text[match.end():])[0]
    except (AttributeError, ValueError):
        raise RuntimeError('%s: unreadable ansible output (rc %d): %s' % (name, returncode, text[-1500:]))
    if returncode != 0 or result.get('failed'):
        raise RuntimeError('%s failed: %s' % (name, result.get('msg') or text[-1500:]))
    return wall, result


def project_dir(base):
    """A Compose project directory with an empty .env.prod, so the module
    takes every database setting from its arguments."""
    path = os.path.join(base, 'project')
    os.makedirs(path, exist_ok=True)
    open(os.path.join(path, '.env.prod'), 'w').close()
    return path
