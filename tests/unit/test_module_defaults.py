# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform options are written once, in role quickbite's
defaults (quickbite_platform_options: the platform option group from the
inventory's quickbite_* variables); every role that calls a module depends
on that role and gives them as module_defaults of the ops action group; every
module is in the group (or a role calling it would lose them), and no module
task repeats a platform option."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os

import yaml

from ansible_collections.quickbite.ops.plugins.module_utils.options import platform_argument_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GROUP = 'group/quickbite.ops.ops'
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py')))
TASK_FILES = sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')))
PLATFORM_VARIABLES = dict(
    platform='quickbite_platform', project_dir='quickbite_compose_project_dir',
    compose_files='quickbite_compose_files', env_file='quickbite_compose_env_file',
    project_name='quickbite_compose_project_name', kubeconfig='quickbite_k8s_kubeconfig',
    context='quickbite_k8s_context', namespace='quickbite_k8s_namespace', secret_name='quickbite_k8s_secret',
    deployments='quickbite_k8s_deployments')


def _tasks(tasks, defaults=None):
    """Every task with the module_defaults of the ops group in force for it."""
    for task in tasks or []:
        here = (task.get('module_defaults') or {}).get(GROUP, defaults)
        if 'block' in task:
            yield from _tasks(task['block'], here)
        else:
            yield task, here


def _ops_module(task):
    names = [key for key in task if key.startswith('quickbite.ops.')]
    return names[0][len('quickbite.ops.'):] if names else None


def test_every_module_is_in_the_ops_action_group():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as f:
        runtime = yaml.safe_load(f)
    assert sorted(runtime['action_groups']['ops']) == MODULES


def test_the_platform_options_are_written_once_from_the_inventory_variables():
    with open(os.path.join(ROOT, 'roles', 'quickbite', 'defaults', 'main.yml')) as f:
        options = yaml.safe_load(f)['quickbite_platform_options']
    assert sorted(options) == sorted(platform_argument_spec())
    for option, variable in PLATFORM_VARIABLES.items():
        omit = '' if option == 'platform' else ' | default(omit)'
        assert options[option] == '{{ %s%s }}' % (variable, omit), option


def test_role_tasks_take_the_platform_options_from_the_group_defaults_only():
    called = set()
    for path in TASK_FILES:
        with open(path) as f:
            for task, defaults in _tasks(yaml.safe_load(f)):
                module = _ops_module(task)
                if module is None:
                    continue
                called.add(module)
                where = '%s: %s' % (os.path.relpath(path, ROOT), task.get('name'))
                args = task['quickbite.ops.' + module] or {}
                assert not set(args) & set(PLATFORM_VARIABLES), where
                assert defaults == '{{ quickbite_platform_options }}', where
                role = os.path.relpath(path, ROOT).split(os.sep)[1]
                with open(os.path.join(ROOT, 'roles', role, 'meta', 'main.yml')) as f:
                    dependencies = yaml.safe_load(f).get('dependencies') or []
                assert {'role': 'quickbite.ops.quickbite'} in dependencies, where
    assert called, 'no role task calls a quickbite.ops module'
