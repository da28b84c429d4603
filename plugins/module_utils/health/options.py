# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health check's options, shared by every module that ends with it
(documented in the quickbite.ops.health doc fragment; change both together),
and the settings built from them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils import _mask, options
from ansible_collections.quickbite.ops.plugins.module_utils.common import register_secrets
from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import check_identifier
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health.service import ALL_CHECKS, HealthSettings


def health_argument_spec():
    """Every option health_settings() reads: the backend, database and
    database.login groups, and the health check's own options (documented
    in the quickbite.ops.health doc fragment; change both together)."""
    return options.argument_spec(
        options.backend_argument_spec(), options.database_argument_spec(), options.database_login_argument_spec(),
        checks=dict(type='list', elements='str', choices=list(ALL_CHECKS), default=list(ALL_CHECKS)),
        frontend_url=dict(type='str', default='http://127.0.0.1'),
        frontend_deep_route=dict(type='str', default='/some/deep/route'),
        redis_host=dict(type='str', default='127.0.0.1'),
        redis_port=dict(type='int', default=6379),
        redis_password=dict(type='str', no_log=True),
        db_access=dict(type='str', default='libpq', choices=['libpq', 'exec']),
        redis_access=dict(type='str', default='tcp', choices=['tcp', 'exec']),
        db_service=dict(type='str', default='postgres'),
        redis_service=dict(type='str', default='redis'),
        request_timeout=dict(type='int', default=5),
        log_lines=dict(type='int', default=20),
        mask_keys=dict(type='list', elements='str', default=list(_mask.DEFAULT_SECRET_KEYS), no_log=False),
    )


def _configured(module, adapter, option, key, fallback=None):
    """Explicit option first, then the deployment's own configuration."""
    if module.params[option] is not None:
        return module.params[option]
    try:
        value = adapter.get_config(key)
    except QuickbiteError as exc:
        raise ConfigError('cannot read %s (needed for %s) from %s: %s; or set quickbite_%s in the inventory'
                          % (key, option, adapter.describe(), exc.msg, option))
    return value if value not in (None, '') else fallback


def health_settings(module, adapter, services=None, endpoints=None):
    """HealthSettings from the module's health options; passwords not given
    are read from the deployment's configuration and masked."""
    p = module.params
    options.require_at_least(p, 0, 'request_timeout', 'log_lines')
    db, redis = {}, {}
    if 'db' in p['checks']:
        db = dict(host=p['db_host'], port=p['db_port'],
                  name=check_identifier(_configured(module, adapter, 'db_name', 'DB_NAME', 'quickbite'),
                                        'quickbite_db_name (or DB_NAME)'),
                  user=check_identifier(_configured(module, adapter, 'db_user', 'DB_USER', 'quickbite'),
                                        'quickbite_db_user (or DB_USER)'),
                  password=_configured(module, adapter, 'db_password', 'DB_PASSWORD'),
                  sslmode=p['db_sslmode'], sslrootcert=p['db_sslrootcert'],
                  exec_service=p['db_service'] if p['db_access'] == 'exec' else None)
        register_secrets(module, db['password'])
    if 'redis' in p['checks']:
        redis = dict(host=p['redis_host'], port=p['redis_port'],
                     password=_configured(module, adapter, 'redis_password', 'REDIS_PASSWORD'),
                     exec_service=p['redis_service'] if p['redis_access'] == 'exec' else None)
        register_secrets(module, redis['password'])
    masker = None
    if 'platform' in p['checks'] and p['log_lines']:
        # Failing services are reported with their last log lines: mask the
        # configuration's secrets there, whichever service printed them.
        masker = _mask.from_adapter(adapter, p['mask_keys'], 'mask_keys (quickbite_secret_keys)')
        register_secrets(module, *masker.values)
    return HealthSettings(
        checks=p['checks'], backend_url=p['backend_url'], frontend_url=p['frontend_url'],
        frontend_deep_route=p['frontend_deep_route'], db=db, redis=redis, services=services,
        request_timeout=p['request_timeout'], log_lines=p['log_lines'],
        validate_certs=p['validate_certs'], endpoints=endpoints, masker=masker)
