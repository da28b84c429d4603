# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Backend won't start - connection refused"."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import CONNECTION_REFUSED, ok, problem
from ansible_collections.quickbite.ops.plugins.module_utils.health import service as health


@registry.check('connection_refused', CONNECTION_REFUSED, limit=20, order=10)
def connection_refused(adapter, settings):
    checked = copy.copy(settings.health)
    checked.checks = ['db']
    db = health.run_once(adapter, checked)['db']
    if db['status'] == 'UP':
        return [ok(CONNECTION_REFUSED, 'database ready: %s' % db['evidence'])]
    return [problem(CONNECTION_REFUSED, 'database not ready: %s' % db['evidence'], fix=None,
                    fix_note='start the database service')]
