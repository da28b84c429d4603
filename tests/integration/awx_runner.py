"""A job template's playbook run as AWX runs it (issue 16 item 3): through
ansible-runner, in a private data directory laid out as AWX lays it out for a
job (awx/main/tasks/jobs.py RunJob):

- env/extravars: the job's extra vars, i.e. the survey's defaults (those AWX
  itself would apply) merged with the filled-in survey (awx_controller.launch_vars);
- the credential type's extra_vars injector rendered into a file of its own in
  env/ (0400) and passed as ``-e @file`` through env/cmdline, as AWX's
  inject_credential does; survey passwords stay in env/extravars;
- env/envvars: the job's environment (JOB_ID, AWX_HOST...: the collection sees an
  AWX job); inventory/hosts: the job's inventory; project -> the checkout (its
  ansible.cfg, as a project sync uses it);
- the job events read back from artifacts/<ident>/job_events.

``ansible-runner run`` runs as its own process (AWX's worker), so a test can
cancel it as AWX does: SIGINT, then SIGTERM after a grace period."""
import glob
import json
import os
import signal
import subprocess
import time
import uuid

import yaml

import awx_controller
from conftest import ROOT, VENV_BIN

RUNNER = os.path.join(VENV_BIN, 'ansible-runner')


class Job(object):
    def __init__(self, private_data_dir, ident, playbook, secrets):
        self.private_data_dir = private_data_dir
        self.ident = ident
        self.playbook = playbook
        self.secrets = [s for s in secrets if s]
        self.environment_secrets = []
        self.proc = None

    @property
    def artifacts(self):
        return os.path.join(self.private_data_dir, 'artifacts', self.ident)

    def start(self):
        argv = [RUNNER, 'run', self.private_data_dir, '-p', self.playbook, '--ident', self.ident]
        env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get('PATH', ''))
        for key in ('ANSIBLE_CONFIG', 'ANSIBLE_CALLBACK_PLUGINS', 'ANSIBLE_CALLBACKS_ENABLED'):
            env.pop(key, None)  # as in a job: the project's ansible.cfg and runner's own callback
        self.proc = subprocess.Popen(argv, cwd=self.private_data_dir, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        return self

    def wait(self, timeout=300):
        self.runner_output = self.proc.communicate(timeout=timeout)[0]
        return self

    def run(self, timeout=300):
        return self.start().wait(timeout)

    def cancel(self, grace=5):
        """AWX's cancel: SIGINT to the runner, SIGTERM if it still runs after ``grace`` s."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout=60)

    @property
    def status(self):
        with open(os.path.join(self.artifacts, 'status')) as handle:
            return handle.read().strip()

    @property
    def rc(self):
        with open(os.path.join(self.artifacts, 'rc')) as handle:
            return int(handle.read().strip())

    @property
    def stdout(self):
        path = os.path.join(self.artifacts, 'stdout')
        if not os.path.exists(path):
            return ''
        with open(path, encoding='utf-8', errors='replace') as handle:
            return handle.read()

    def events(self):
        events = []
        for path in glob.glob(os.path.join(self.artifacts, 'job_events', '*.json')):
            with open(path, encoding='utf-8') as handle:
                events.append(json.load(handle))
        return sorted(events, key=lambda e: e.get('counter', 0))

    def results(self, action):
        """The results of the tasks running ``action`` (a module's short name), from the job events."""
        return [e['event_data']['res'] for e in self.events()
                if e.get('event') in ('runner_on_ok', 'runner_on_failed')
                and e['event_data'].get('task_action', '').split('.')[-1] == action]

    def leaks(self):
        """(file, secret's first 4 characters) for every secret found in the job's artifacts (job events,
        stdout, status...) or in what the runner printed. ansible-runner records the job's whole
        environment in artifacts/<ident>/command (0600, in the private data directory AWX deletes
        after the job; AWX keeps a masked copy): there the argv and cwd are searched, and the
        environment only for secrets the job did not get through its environment (AWX's
        Kubernetes credential gives K8S_AUTH_API_KEY that way)."""
        found = []
        for dirpath, _dirs, names in os.walk(os.path.join(self.private_data_dir, 'artifacts')):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, 'rb') as handle:
                    data = handle.read()
                if name == 'command' and dirpath == self.artifacts:
                    assert os.stat(path).st_mode & 0o077 == 0, '%s is readable by others' % path
                    record = json.loads(data.decode('utf-8'))
                    environment = dict((k, v) for k, v in record['env'].items() if v not in self.environment_secrets)
                    data = json.dumps([record['command'], record['cwd'], environment]).encode('utf-8')
                found += [(os.path.relpath(path, self.private_data_dir), s[:4]) for s in self.secrets
                          if s.encode() in data]
        found += [('runner output', s[:4]) for s in self.secrets if s in (getattr(self, 'runner_output', '') or '')]
        return found

    def explain(self):
        return 'status %s rc %s\n%s' % (self.status, self.rc, self.stdout[-4000:])


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, 'w') as handle:
        handle.write(data)


def prepare(base_dir, playbook, answers, inventory_vars, credential_inputs=None, envvars=None, check=False,
            extra_secrets=()):
    """A private data directory for the job template of ``playbook`` with the survey
    filled in with ``answers``; returns the Job (not started)."""
    template = awx_controller.template_for(playbook)
    extra_vars = awx_controller.launch_vars(template['survey_spec'], answers)
    ident = uuid.uuid4().hex[:12]
    pdd = os.path.join(str(base_dir), 'job-%s-%s' % (os.path.splitext(playbook)[0], ident))
    os.makedirs(os.path.join(pdd, 'env'))
    os.makedirs(os.path.join(pdd, 'inventory'))
    os.symlink(ROOT, os.path.join(pdd, 'project'))
    _write(os.path.join(pdd, 'env', 'extravars'), yaml.safe_dump(extra_vars))
    cmdline = []
    secrets = list(extra_secrets) + [answers[q['variable']] for q in template['survey_spec']['spec']
                                     if q['type'] == 'password' and answers.get(q['variable'])]
    if credential_inputs is not None:
        injected = awx_controller.inject_extra_vars('QuickBite secrets', credential_inputs)
        path = os.path.join(pdd, 'env', 'tmp' + uuid.uuid4().hex[:8])
        _write(path, yaml.safe_dump(injected), 0o400)
        cmdline += ['-e', '@%s' % path]
        secrets += list(credential_inputs.values())
    if check:
        cmdline.append('--check')
    if cmdline:
        _write(os.path.join(pdd, 'env', 'cmdline'), ' '.join(cmdline))
    env = dict(JOB_ID='4242', AWX_HOST='https://awx.example', INVENTORY_ID='1', PROJECT_REVISION='test',
               ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    env.update(envvars or {})
    _write(os.path.join(pdd, 'env', 'envvars'), yaml.safe_dump(env))
    job = Job(pdd, ident, 'playbooks/%s' % playbook, secrets)
    job.environment_secrets = list((envvars or {}).values())
    _write(os.path.join(pdd, 'env', 'settings'), yaml.safe_dump({'suppress_ansible_output': True}))
    inventory = {'all': {'children': {'quickbite': {'hosts': {'quickbite-awx': dict(
        ansible_connection='local', ansible_python_interpreter='{{ ansible_playbook_python }}')},
        'vars': inventory_vars}}}}
    _write(os.path.join(pdd, 'inventory', 'hosts.yml'), yaml.safe_dump(inventory))
    return job


def wait_for(predicate, timeout=60, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError('condition not reached in %s s' % timeout)
