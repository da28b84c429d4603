# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option groups several modules share, each declared once: one spec
function here, paired with one doc fragment (named in its docstring; change
both together). A module builds its argument_spec with argument_spec(), from
the groups its DOCUMENTATION extends plus its own options.

Light on purpose (no psycopg2, no platform client): every module imports it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

SSLMODES = ('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full')


def argument_spec(*groups, **own):
    """One argument_spec from option groups and the module's own options.
    An option may come from one place only: a second declaration is a bug
    (two places to keep in step), so it raises."""
    spec = {}
    for group in groups + (own,):
        for name, option in group.items():
            if name in spec:
                raise ValueError('option %s is declared twice; declare it in one option group' % name)
            spec[name] = option
    return spec


def require_at_least(params, minimum, *names):
    """Refuse an integer option below ``minimum`` (a count or a number of
    seconds), naming it, before anything runs."""
    for name in names:
        if params[name] < minimum:
            raise ConfigError('%s must be %d or more, got %d' % (name, minimum, params[name]))


def platform_argument_spec():
    """Options that pick and reach the platform; doc fragment quickbite.ops.platform."""
    return dict(
        platform=dict(type='str', required=True, choices=['compose', 'k8s']),
        project_dir=dict(type='path', default='/opt/quickbite'),
        compose_files=dict(type='list', elements='str', default=['docker-compose.prod.yml']),
        env_file=dict(type='str', default='.env.prod'),
        project_name=dict(type='str'),
        kubeconfig=dict(type='path'),
        context=dict(type='str'),
        host=dict(type='str'),
        api_key=dict(type='str', no_log=True),
        ca_cert=dict(type='path', aliases=['ssl_ca_cert']),
        verify_ssl=dict(type='bool'),
        namespace=dict(type='str', default='quickbite'),
        secret_name=dict(type='str', default='quickbite-secrets'),
        deployments=dict(type='dict', default={}),
    )


def backend_argument_spec():
    """How to reach the backend over HTTP; doc fragment quickbite.ops.backend."""
    return dict(
        backend_url=dict(type='str', default='http://127.0.0.1:8080'),
        validate_certs=dict(type='bool', default=True),
    )


def wait_argument_spec():
    """How long the services a module changes may take; doc fragment quickbite.ops.wait."""
    return dict(
        wait_timeout=dict(type='int', default=300),
    )


def database_argument_spec():
    """Which PostgreSQL database and role, where, over which TLS; doc fragment quickbite.ops.database."""
    return dict(
        db_host=dict(type='str', default='127.0.0.1'),
        db_port=dict(type='int', default=5432),
        db_name=dict(type='str'),
        db_user=dict(type='str'),
        db_sslmode=dict(type='str', default='prefer', choices=list(SSLMODES)),
        db_sslrootcert=dict(type='path'),
    )


def database_login_argument_spec():
    """The password of O(db_user); doc fragment quickbite.ops.database.login."""
    return dict(
        db_password=dict(type='str', no_log=True),
    )


def database_client_argument_spec():
    """libpq connections of the database modules; doc fragment quickbite.ops.database.client."""
    return dict(
        connect_timeout=dict(type='int', default=10),
    )


def database_admin_argument_spec():
    """The administrative role; doc fragment quickbite.ops.database_admin."""
    return dict(
        admin_user=dict(type='str', default='postgres'),
        admin_password=dict(type='str', no_log=True),
        admin_db=dict(type='str', default='postgres'),
    )


def backup_loading_argument_spec():
    """Options of every module that loads a backup; doc fragment quickbite.ops.backup_loading."""
    return dict(
        allow_foreign_backup=dict(type='bool', default=False),
        jobs=dict(type='int', default=2),
    )
