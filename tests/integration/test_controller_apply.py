"""controller/apply.yml as an AWX administrator runs it, with a stand-in for
infra.controller_configuration's dispatch role (no Galaxy and no AWX here): the
playbook loads every controller/*.yml with the site settings, and what the
real role would send to AWX comes out as it should: the settings' values in
place, the credential type's injector templates left for AWX to render, the
vaulted passwords only where the credential's inputs need them."""
import json
import os
import subprocess

import pytest

from conftest import ROOT, VENV_BIN

pytestmark = [pytest.mark.integration]

STAND_IN = """---
- name: What the dispatch role would send to AWX
  ansible.builtin.copy:
    dest: "{{ quickbite_test_dump }}"
    mode: "0600"
    content: "{{ {'templates': controller_templates, 'workflows': controller_workflows,
                  'schedules': controller_schedules, 'credential_types': controller_credential_types,
                  'credentials': controller_credentials, 'projects': controller_projects,
                  'inventories': controller_inventories,
                  'execution_environments': controller_execution_environments} | to_json }}"
"""


def test_apply_playbook_loads_the_configuration_as_the_dispatch_role_gets_it(tmp_path):
    role = tmp_path / 'ansible_collections' / 'infra' / 'controller_configuration' / 'roles' / 'dispatch' / 'tasks'
    role.mkdir(parents=True)
    (role / 'main.yml').write_text(STAND_IN)
    (tmp_path / 'ansible_collections' / 'infra' / 'controller_configuration' / 'galaxy.yml').write_text(
        'namespace: infra\nname: controller_configuration\nversion: 2.11.0\n')
    vault = dict(vault_quickbite_awx_db_password='db-secret-for-the-test', vault_quickbite_awx_ssh_key='ssh-key',
                 vault_quickbite_awx_db_admin_password='admin-secret-for-the-test',
                 vault_quickbite_awx_redis_password='redis-secret-for-the-test')
    dump = tmp_path / 'dump.json'
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_NOCOLOR='1')
    env.pop('ANSIBLE_CONFIG', None)
    proc = subprocess.run([os.path.join(VENV_BIN, 'ansible-playbook'), os.path.join(ROOT, 'controller', 'apply.yml'),
                           '-e', json.dumps(dict(vault, quickbite_test_dump=str(dump),
                                                 ansible_python_interpreter='{{ ansible_playbook_python }}'))],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sent = json.loads(dump.read_text())
    assert set(t['organization'] for t in sent['templates']) == {'Default'}
    assert all(t['survey_spec']['spec'] for t in sent['templates'])
    secrets_type, = sent['credential_types']
    assert secrets_type['injectors']['extra_vars'] == {
        'quickbite_db_password': '{{ db_password }}', 'quickbite_db_admin_password': '{{ db_admin_password }}',
        'quickbite_redis_password': '{{ redis_password }}'}, 'AWX renders the injector, not the apply run'
    credentials = {c['name']: c for c in sent['credentials']}
    assert credentials['QuickBite secrets']['inputs'] == {
        'db_password': 'db-secret-for-the-test', 'db_admin_password': 'admin-secret-for-the-test',
        'redis_password': 'redis-secret-for-the-test'}
    assert credentials['QuickBite platform']['credential_type'] == 'Machine'
    schedules = {s['name']: s for s in sent['schedules']}
    assert schedules['QuickBite nightly backup']['rrule'] == (
        'DTSTART;TZID=UTC:20260101T020000 RRULE:FREQ=DAILY;INTERVAL=1')
    assert schedules['QuickBite nightly backup']['extra_data'] == {
        'quickbite_platform': 'compose', 'backup_db_verify': 'true'}
    assert sent['execution_environments'][0]['image'] == 'registry.example.com/quickbite/ee:0.1.0'
    assert 'db-secret-for-the-test' not in proc.stdout + proc.stderr
