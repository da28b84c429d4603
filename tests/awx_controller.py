# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller configuration (controller/*.yml) read as AWX reads it, for the
tests: the data files, a survey's validation and defaults as AWX applies them
at launch (awx/main/models/mixins.py SurveyJobTemplateMixin), a credential
type's extra_vars injector rendered as AWX renders it (awx/main/models/
credential.py inject_credential: a Jinja sandbox over the credential's inputs)
and AWX's rrule rules (awx/api/serializers.py validate_rrule)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os
import re

import yaml
from jinja2 import sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTROLLER = os.path.join(ROOT, 'controller')


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """SafeLoader that reads Ansible's !unsafe tag as a plain string."""


_Loader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))


def load(name):
    """controller/<name>.yml as data, with the site settings' non-secret values substituted."""
    with open(os.path.join(CONTROLLER, name + '.yml'), encoding='utf-8') as handle:
        return yaml.load(handle, Loader=_Loader)  # nosec - SafeLoader subclass


def settings():
    return load('settings')


def resolve(value, variables=None):
    """A value of the data files with a whole-value "{{ var }}" taken from the settings."""
    variables = variables or settings()
    if isinstance(value, str):
        match = re.match(r'^\{\{\s*(\w+)\s*\}\}$', value)
        if match and match.group(1) in variables:
            return variables[match.group(1)]
        return re.sub(r'\{\{\s*(\w+)\s*\}\}', lambda m: str(variables.get(m.group(1), m.group(0))), value)
    return value


def templates():
    return {t['name']: t for t in load('controller_templates')['controller_templates']}


def template_for(playbook):
    for item in templates().values():
        if item['playbook'] == 'playbooks/%s' % playbook:
            return item
    raise AssertionError('no job template runs playbooks/%s' % playbook)


def _choices(element):
    choices = element.get('choices') or []
    if isinstance(choices, str):
        choices = [c for c in choices.splitlines() if c.strip()]
    return choices


def validate(element, data):
    """AWX's _survey_element_validation of one question against launch data: the errors."""
    key = element['variable']
    errors = []
    if key not in data:
        return ["'%s' value missing" % key] if element['required'] else []
    value = data[key]
    kind = element['type']
    if kind in ('text', 'textarea', 'password'):
        if not isinstance(value, str):
            return ["Value %r for '%s' expected to be a string." % (value, key)]
        if element.get('min') not in ('', None) and len(value) < int(element['min']):
            errors.append("'%s' too short" % key)
        if element.get('max') not in ('', None) and len(value) > int(element['max']):
            errors.append("'%s' too long" % key)
    elif kind == 'integer':
        if type(value) is not int:  # pylint: disable=unidiomatic-typecheck
            return ["Value %r for '%s' expected to be an integer." % (value, key)]
    elif kind == 'float':
        if type(value) not in (float, int):  # pylint: disable=unidiomatic-typecheck
            return ["Value %r for '%s' expected to be a numeric type." % (value, key)]
    elif kind == 'multiselect':
        if not isinstance(value, list):
            return ["'%s' value is expected to be a list." % key]
        errors += ["Value %s for '%s' expected to be one of %s." % (v, key, _choices(element))
                   for v in value if v not in _choices(element)]
    elif kind == 'multiplechoice':
        if value not in _choices(element):
            errors.append("Value %s for '%s' expected to be one of %s." % (value, key, _choices(element)))
    return errors


def launch_vars(survey_spec, answers):
    """The job's extra vars as AWX makes them at launch: the survey's defaults
    that pass their own validation, then the answers (refused answers raise)."""
    extra_vars = {}
    for element in survey_spec['spec']:
        default = element.get('default')
        if default is not None and not validate(element, {element['variable']: default}):
            extra_vars[element['variable']] = default
    errors = []
    for element in survey_spec['spec']:
        merged = dict(extra_vars, **answers)
        errors += validate(element, merged)
    unknown = sorted(set(answers) - set(e['variable'] for e in survey_spec['spec']))
    if unknown:
        errors.append('Variables %s are not allowed on launch (no survey question)' % unknown)
    if errors:
        raise AssertionError('AWX would refuse the launch: %s' % '; '.join(errors))
    extra_vars.update(copy.deepcopy(answers))
    return extra_vars


def credential_type(name):
    for item in load('controller_credential_types')['controller_credential_types']:
        if item['name'] == name:
            return item
    raise AssertionError('no credential type %s in controller/controller_credential_types.yml' % name)


def inject_extra_vars(type_name, inputs):
    """The extra vars AWX's injector gives a job from a credential of ``type_name``."""
    namespace = {key: value for key, value in inputs.items() if value is not None and len(value)}
    env = sandbox.ImmutableSandboxedEnvironment()

    def build(node):
        if isinstance(node, dict):
            return {build(k): build(v) for k, v in node.items()}
        if isinstance(node, list):
            return [build(v) for v in node]
        return env.from_string(node).render(**namespace)
    return build(credential_type(type_name)['injectors'].get('extra_vars', {}))


def rrule_errors(value):
    """AWX's validate_rrule checks (the parse included) on a schedule's rrule string."""
    errors = []
    dtstarts = re.findall(r'.*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)', value)
    if not dtstarts:
        errors.append('Valid DTSTART required in rrule')
    if re.findall(r'.*?(DTSTART:[0-9]+T[0-9]+) ', value):
        errors.append('DTSTART cannot be a naive datetime')
    if len(dtstarts) > 1:
        errors.append('Multiple DTSTART is not supported')
    if 'rrule:' not in value.lower():
        errors.append('One or more rule required in rrule')
    for rule in re.findall(r'.*?(RULE\:[^\s]*)', value):
        if 'interval' not in rule.lower():
            errors.append('INTERVAL required in rrule: %s' % rule)
        if 'secondly' in rule.lower():
            errors.append('SECONDLY is not supported')
        if re.match(r'.*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}', rule):
            errors.append('BYDAY with numeric prefix not supported')
        if 'COUNT' in rule and 'UNTIL' in rule:
            errors.append('RRULE may not contain both COUNT and UNTIL')
    try:
        from dateutil import rrule as _rrule, tz  # pylint: disable=import-outside-toplevel
        _rrule.rrulestr(value.replace(' RRULE', '\nRRULE'), tzids=tz.gettz, forceset=True)
    except (ImportError, ValueError, TypeError) as exc:
        errors.append('rrule parsing failed validation: %s' % exc)
    return errors
