"""Each shared option group is declared once in options.py and documented by
exactly one doc fragment: the two must agree (ansible-test validate-modules
checks each module's merged documentation against its argument_spec too)."""
import yaml
import pytest

from ansible_collections.quickbite.ops.plugins.doc_fragments import (
    backend, backup_loading, database, database_admin, health, platform, wait)
from ansible_collections.quickbite.ops.plugins.module_utils import options
from ansible_collections.quickbite.ops.plugins.module_utils.health.options import health_argument_spec

GROUPS = [
    ('quickbite.ops.platform', platform.ModuleDocFragment.DOCUMENTATION, options.platform_argument_spec),
    ('quickbite.ops.backend', backend.ModuleDocFragment.DOCUMENTATION, options.backend_argument_spec),
    ('quickbite.ops.wait', wait.ModuleDocFragment.DOCUMENTATION, options.wait_argument_spec),
    ('quickbite.ops.database', database.ModuleDocFragment.DOCUMENTATION, options.database_argument_spec),
    ('quickbite.ops.database.login', database.ModuleDocFragment.LOGIN, options.database_login_argument_spec),
    ('quickbite.ops.database.client', database.ModuleDocFragment.CLIENT, options.database_client_argument_spec),
    ('quickbite.ops.database_admin', database_admin.ModuleDocFragment.DOCUMENTATION,
     options.database_admin_argument_spec),
    ('quickbite.ops.backup_loading', backup_loading.ModuleDocFragment.DOCUMENTATION,
     options.backup_loading_argument_spec),
]


def assert_documented(documented, spec):
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        doc = documented[name]
        assert doc['type'] == option['type'], name
        assert doc.get('default') == option.get('default'), name
        assert doc.get('choices') == option.get('choices'), name
        assert doc.get('elements') == option.get('elements'), name
        assert doc.get('required', False) == option.get('required', False), name


@pytest.mark.parametrize('fragment, text, spec', GROUPS, ids=[g[0] for g in GROUPS])
def test_each_option_group_matches_its_one_doc_fragment(fragment, text, spec):
    assert_documented(yaml.safe_load(text)['options'], spec())


def test_the_health_options_are_its_fragment_and_the_groups_it_reads():
    documented = yaml.safe_load(health.ModuleDocFragment.DOCUMENTATION)['options']
    for group in (options.backend_argument_spec, options.database_argument_spec,
                  options.database_login_argument_spec):
        documented.update(yaml.safe_load(dict((g[2], g[1]) for g in GROUPS)[group])['options'])
    assert_documented(documented, health_argument_spec())


def test_no_option_is_declared_in_two_groups():
    seen = {}
    for fragment, _text, spec in GROUPS:
        for name in spec():
            assert name not in seen, '%s in %s and %s' % (name, seen.get(name), fragment)
            seen[name] = fragment


def test_secret_options_are_no_log():
    spec = options.argument_spec(*[g[2]() for g in GROUPS])
    assert [name for name, option in sorted(spec.items()) if option.get('no_log')] == [
        'admin_password', 'api_key', 'db_password']


def test_argument_spec_merges_groups_and_own_options():
    spec = options.argument_spec(options.backend_argument_spec(), options.wait_argument_spec(),
                                 service=dict(type='str', default='backend'))
    assert sorted(spec) == ['backend_url', 'service', 'validate_certs', 'wait_timeout']
    assert spec['wait_timeout'] == dict(type='int', default=300)


def test_argument_spec_refuses_an_option_declared_twice():
    with pytest.raises(ValueError, match='option backend_url is declared twice'):
        options.argument_spec(options.backend_argument_spec(), backend_url=dict(type='str'))
    with pytest.raises(ValueError, match='option db_host is declared twice'):
        options.argument_spec(options.database_argument_spec(), health_argument_spec())


def test_groups_are_fresh_copies():
    spec = options.platform_argument_spec()
    spec['deployments']['default']['backend'] = 'changed'
    assert options.platform_argument_spec()['deployments']['default'] == {}


def test_require_at_least_names_the_option_below_its_minimum():
    from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
    options.require_at_least(dict(timeout=0, interval=2), 0, 'timeout', 'interval')
    with pytest.raises(ConfigError, match='^interval must be 0 or more, got -1$'):
        options.require_at_least(dict(timeout=0, interval=-1), 0, 'timeout', 'interval')
    with pytest.raises(ConfigError, match='^timeout must be 1 or more, got 0$'):
        options.require_at_least(dict(timeout=0), 1, 'timeout')
