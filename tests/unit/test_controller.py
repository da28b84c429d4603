# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX configuration as code (controller/, issue 16 item 2): the job
templates file is what controller/generate.py makes from the roles' argument
specs today; every survey question matches its role option (name, type,
required, choices, default; password for every no_log option) and every option
has its question; every template's playbook, project, inventory, execution
environment and credentials exist; the credential type injects secrets only;
the schedules and the P1 workflow are what the issue asks, in a form AWX
accepts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import importlib.util
import os
import re

import pytest
import yaml

import awx_controller as awx

ROOT = awx.ROOT
AWX_MANAGED_CREDENTIAL_TYPES = ('Machine', 'OpenShift or Kubernetes API Bearer Token', 'Vault')
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')


def _generator():
    spec = importlib.util.spec_from_file_location('quickbite_controller_generate', os.path.join(ROOT, 'controller', 'generate.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _options(role):
    return _yaml(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml'))['argument_specs']['main'].get('options') or {}


def _role_of(template):
    plays = _yaml(os.path.join(ROOT, template['playbook']))
    return plays[0]['roles'][0]['role'].split('.')[-1]


TEMPLATES = awx.templates()


def test_the_generated_templates_are_current():
    assert _generator().render() == open(os.path.join(ROOT, 'controller', 'controller_templates.yml'), encoding='utf-8').read(), (
        'controller/controller_templates.yml is stale (a playbook or a role option changed): '
        'run python3 controller/generate.py and commit the file')


def _play(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return [line for line in handle.read().splitlines() if not line.startswith('#')]


def test_every_playbook_has_a_job_template_or_is_an_alias_of_one():
    run = set(t['playbook'] for t in TEMPLATES.values())
    for path in sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml'))):
        name = 'playbooks/%s' % os.path.basename(path)
        if name in run:
            continue
        original = name.replace('-', '_')
        assert '-' in name and original in run, '%s has no job template in controller/controller_templates.yml' % name
        assert _play(name) == _play(original), '%s is not the same play as %s' % (name, original)


@pytest.mark.parametrize('name', sorted(TEMPLATES))
def test_every_template_refers_to_what_exists(name):
    template = TEMPLATES[name]
    assert os.path.isfile(os.path.join(ROOT, template['playbook'])), '%s: no %s' % (name, template['playbook'])
    assert os.path.isdir(os.path.join(ROOT, 'roles', _role_of(template)))
    credentials = {c['name']: c for c in awx.load('controller_credentials')['controller_credentials']}
    types = [t['name'] for t in awx.load('controller_credential_types')['controller_credential_types']]
    for credential in template['credentials']:
        assert credential in credentials, '%s: credential %s is not in controller_credentials.yml' % (name, credential)
        kind = awx.resolve(credentials[credential]['credential_type'])
        assert kind in types or kind in AWX_MANAGED_CREDENTIAL_TYPES, '%s: credential type %s' % (credential, kind)
    assert template['project'] in [p['name'] for p in awx.load('controller_projects')['controller_projects']]
    assert template['inventory'] in [i['name'] for i in awx.load('controller_inventories')['controller_inventories']]
    assert template['execution_environment'] in [
        e['name'] for e in awx.load('controller_execution_environments')['controller_execution_environments']]
    assert template['survey_enabled'] is True


@pytest.mark.parametrize('name', sorted(TEMPLATES))
def test_every_survey_question_matches_its_role_option(name):
    template = TEMPLATES[name]
    role = _role_of(template)
    options = _options(role)
    questions = template['survey_spec']['spec']
    asked = [q['variable'] for q in questions]
    missing = [o for o in options if o not in asked]
    assert not missing, ('%s: the survey lacks %s (roles/%s/meta/argument_specs.yml): run python3 controller/generate.py'
                         % (name, ', '.join(missing), role))
    assert asked == list(options), '%s: the survey asks %s, the role has %s' % (name, asked, list(options))
    defaults = _generator().role_defaults(role)
    for q in questions:
        spec = options[q['variable']]
        where = '%s, question %s' % (name, q['variable'])
        assert q['type'] in SURVEY_TYPES, where
        assert q['question_name'] and q['question_description'], where
        assert q['required'] is bool(spec.get('required', False)), where
        assert (q['type'] == 'password') is bool(spec.get('no_log')), '%s: password exactly for no_log options' % where
        kind, default = spec.get('type', 'str'), spec.get('default')
        if isinstance(defaults.get(q['variable']), str) and '{{' in defaults[q['variable']]:
            assert 'default' not in q, '%s: the role default follows the inventory; AWX would override it' % where
            default = None
        if spec.get('no_log'):
            continue
        if kind == 'bool':
            assert q['type'] == 'multiplechoice' and q['choices'] == ['true', 'false'], where
            assert default is None or q['default'] == str(default).lower(), where
        elif kind == 'int':
            assert q['type'] == 'integer' and q.get('default') == default, where
        elif spec.get('choices'):
            assert q['choices'] == [str(c) for c in spec['choices']], where
            assert q['type'] == ('multiselect' if kind == 'list' else 'multiplechoice'), where
            if default:
                assert q['default'] == ('\n'.join(default) if kind == 'list' else str(default)), where
        elif kind == 'list' and spec.get('elements') != 'dict':
            assert q['type'] == 'text' and q.get('default') == (','.join(default) if default else None), where
        elif kind in ('dict', 'list'):
            assert q['type'] == 'textarea' and 'default' not in q or yaml.safe_load(q['default']) == default, where
        else:
            assert q['type'] == 'text' and q.get('default') == default, where
        # A default AWX applies must pass AWX's own validation of the question.
        if q.get('default') is not None and q['type'] != 'multiselect':
            assert not awx.validate(q, {q['variable']: q['default']}), where


def test_a_new_role_option_makes_the_generator_and_the_check_fail(tmp_path, monkeypatch):
    generate = _generator()
    real = generate._load

    def with_new_option(path):
        data = real(path)
        if path.endswith(os.path.join('healthcheck', 'meta', 'argument_specs.yml')):
            data['argument_specs']['main']['options']['healthcheck_new_option'] = {
                'type': 'str', 'no_log': True, 'description': 'A new secret.'}
        return data
    monkeypatch.setattr(generate, '_load', with_new_option)
    monkeypatch.setattr(generate, 'OUTPUT', str(tmp_path / 'controller_templates.yml'))
    (tmp_path / 'controller_templates.yml').write_text(open(os.path.join(ROOT, 'controller', 'controller_templates.yml')).read())
    assert generate.main(['--check']) == 1
    assert generate.main([]) == 0 and generate.main(['--check']) == 0
    text = (tmp_path / 'controller_templates.yml').read_text()
    assert re.search(r'variable: healthcheck_new_option\n(?:.*\n){3}\s+type: password', text)


def test_the_credential_type_injects_the_secrets_as_extra_vars():
    kind = awx.credential_type('QuickBite secrets')
    fields = {f['id']: f for f in kind['inputs']['fields']}
    assert all(f.get('secret') is True for f in fields.values())
    assert sorted(kind['inputs']['required']) == sorted(fields)
    injected = awx.inject_extra_vars('QuickBite secrets', {k: 'value-of-%s' % k for k in fields})
    assert injected == {'quickbite_db_password': 'value-of-db_password',
                        'quickbite_db_admin_password': 'value-of-db_admin_password',
                        'quickbite_redis_password': 'value-of-redis_password'}
    for template in kind['injectors']['extra_vars'].values():
        assert re.match(r'^\{\{ \w+ \}\}$', template), 'AWX renders the injector; the file must keep it unrendered'
    tasks = '\n'.join(open(p, encoding='utf-8').read() for p in glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')))
    for variable in injected:
        assert variable in tasks, '%s is injected but no role reads it' % variable
    assert 'env' not in kind['injectors'] and 'file' not in kind['injectors']


def _survey_of(template_name):
    return TEMPLATES[template_name]['survey_spec']


def test_the_schedules():
    schedules = {s['name']: s for s in awx.load('controller_schedules')['controller_schedules']}
    nightly, drill = schedules['QuickBite nightly backup'], schedules['QuickBite weekly restore drill']
    for schedule in schedules.values():
        assert schedule['unified_job_template'] in TEMPLATES
        assert not awx.rrule_errors(awx.resolve(schedule['rrule'])), schedule['name']
        extra = {k: awx.resolve(v) for k, v in schedule.get('extra_data', {}).items()}
        awx.launch_vars(_survey_of(schedule['unified_job_template']), extra)  # AWX accepts the answers
    assert TEMPLATES[nightly['unified_job_template']]['playbook'] == 'playbooks/backup_db.yml'
    assert 'FREQ=DAILY' in nightly['rrule'] and 'T020000' in nightly['rrule']
    assert nightly['extra_data']['backup_db_verify'] == 'true'
    assert TEMPLATES[drill['unified_job_template']]['playbook'] == 'playbooks/verify_backup.yml'
    assert 'FREQ=WEEKLY' in drill['rrule']
    assert awx.rrule_errors('DTSTART:20260101T020000 RRULE:FREQ=DAILY'), 'the AWX rules are checked'


def test_the_p1_workflow():
    workflow, = awx.load('controller_workflows')['controller_workflows']
    nodes = {n['identifier']: n for n in workflow['simplified_workflow_nodes']}
    order, node = [], nodes['incident-evidence']
    while node:
        order.append(node.get('unified_job_template') or 'approval')
        following = node.get('success_nodes', []) + node.get('always_nodes', [])
        node = nodes[following[0]] if following else None
    assert order == ['QuickBite / incident', 'approval', 'QuickBite / rollback', 'QuickBite / healthcheck']
    assert nodes['approve-rollback']['approval_node']['timeout'] > 0
    questions = {q['variable']: q for q in workflow['survey_spec']['spec']}
    for node in nodes.values():
        if 'unified_job_template' not in node:
            continue
        survey = _survey_of(node['unified_job_template'])
        asked = {q['variable']: q for q in survey['spec']}
        for variable, question in questions.items():
            if variable in asked:  # the workflow asks it as the template does
                same = ('type', 'required', 'choices', 'default', 'min', 'max')
                assert [question.get(k) for k in same] == [asked[variable].get(k) for k in same], (node['identifier'], variable)
        answers = dict(quickbite_platform='compose', **node.get('extra_data', {}))
        awx.launch_vars(survey, answers)
