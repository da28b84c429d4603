# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Payment webhook returning 400"."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import WEBHOOK_400, ok, problem
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import webhook as probes


@registry.check('webhook', WEBHOOK_400, limit=15, order=30)
def webhook(adapter, settings):
    secret = adapter.get_config('PAYMENT_WEBHOOK_SECRET')
    url = settings.health.backend_url.rstrip('/') + settings.webhook_path
    checks = probes.probe(url, secret, settings.health.validate_certs)
    failed = [c for c in checks if not c[1]]
    if failed:
        return [problem(WEBHOOK_400, '; '.join(c[2] for c in failed), fix=None)]
    return [ok(WEBHOOK_400, '; '.join(c[2] for c in checks))]
