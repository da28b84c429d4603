# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Payment webhook returning 400", around the webhook probes
(rotation.webhook): a correctly signed test event must be accepted and a
wrongly signed one refused; the same event re-serialized (other whitespace
and key order) and signed over its new bytes tells a backend that verifies
the raw body (accepts it) from one that verifies parsed JSON (refuses it).
The secrets are compared by fingerprint only: the configured one, the one
the running backend has, and the payment dashboard's when given."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import WEBHOOK_400, ok, problem, skipped
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.rotation import webhook as probes

KEY = 'PAYMENT_WEBHOOK_SECRET'


def _accepted(status):
    return isinstance(status, int) and 200 <= status < 300


def _running_secret(adapter, settings):
    try:
        return adapter.runtime_env(settings.backend_service)['env'].get(KEY)
    except QuickbiteError:
        return None


def _verification(url, settings, secret, running):
    signed, wrong = probes.statuses(url, secret, settings.health.validate_certs)
    reser_ok, reser, reser_words = probes.probe_reserialized(url, secret, settings.health.validate_certs)
    evidence = dict(url=url, signed_status=signed, wrongly_signed_status=wrong, reserialized_status=reser,
                    reserialized=reser_words, configured_fingerprint=fingerprint(secret),
                    running_fingerprint=fingerprint(running))
    if _accepted(signed) and wrong != 400:
        return problem(WEBHOOK_400, 'POST %s: a wrongly signed event is answered %s, not refused (400): the backend '
                       'does not verify X-Razorpay-Signature' % (url, wrong), evidence, fix=None,
                       fix_note='a code fix: verify the HMAC-SHA256 of the raw body before accepting an event')
    if _accepted(signed) and reser_ok:
        return ok(WEBHOOK_400, 'POST %s: the backend verifies the signature over the raw body: a correctly signed '
                  'event is accepted (%s), a wrongly signed one refused (%s), the same event re-serialized and signed '
                  'over its own bytes accepted (%s)' % (url, signed, wrong, reser), evidence)
    if _accepted(signed) and reser == 400:
        return problem(WEBHOOK_400, 'POST %s: the backend verifies the signature over JSON it parsed and serialized '
                       'again, not over the raw body: the event accepted as sent (%s) is refused (400) once '
                       're-serialized (other whitespace and key order) and signed over its new bytes, as the '
                       'provider\'s own bodies are' % (url, signed), evidence, fix=None,
                       fix_note='a code fix (runbook: "raw body, not parsed JSON"): compute the HMAC over the request '
                                'bytes before parsing them; no playbook changes the backend\'s code')
    if signed == 400:
        if running is not None and fingerprint(running) != fingerprint(secret):
            return problem(WEBHOOK_400, 'POST %s: a correctly signed event is refused (400): the running backend has '
                           'secret %s, the configuration holds %s' % (url, fingerprint(running), fingerprint(secret)),
                           evidence, fix='restart', fix_note="-e '{\"restart_services\": [\"%s\"]}' -e "
                           "restart_mode=recreate: the backend reads the configured secret again"
                           % settings.backend_service)
        return problem(WEBHOOK_400, 'POST %s: an event signed with the configured secret (%s) is refused (400) by a '
                       'backend that %s: it checks other bytes or another scheme' % (
                           url, fingerprint(secret), 'runs with that same secret' if running is not None else
                           'does not show its secret'), evidence, fix=None,
                       fix_note='read the backend\'s webhook code and its logs (playbooks/logs.yml)')
    return problem(WEBHOOK_400, 'POST %s: the webhook fails whatever the signature: the correctly signed event got %s, '
                   'the re-serialized one %s' % (url, signed, reser), evidence, fix=None,
                   fix_note='read the backend\'s logs (playbooks/logs.yml) for the error behind it')


def _dashboard(settings, secret):
    given = settings.webhook_dashboard_secret
    if not given:
        return skipped(WEBHOOK_400, 'the dashboard\'s secret was not compared (diagnose_webhook_dashboard_secret not '
                       'given); the configured secret has fingerprint %s' % fingerprint(secret),
                       dict(configured_fingerprint=fingerprint(secret)))
    evidence = dict(configured_fingerprint=fingerprint(secret), dashboard_fingerprint=fingerprint(given))
    if fingerprint(given) == fingerprint(secret):
        return ok(WEBHOOK_400, 'the payment dashboard\'s secret is the configured one (fingerprint %s)'
                  % fingerprint(secret), evidence)
    return problem(WEBHOOK_400, 'the payment dashboard signs with secret %s, the configuration holds %s: every real '
                   'webhook is refused with 400' % (fingerprint(given), fingerprint(secret)), evidence,
                   fix='rotate_webhook_secret', fix_note='-e rotate_webhook_secret_new=<the dashboard\'s value> '
                   '(vault it): it sets the configured secret and restarts the backend')


@registry.check('webhook', WEBHOOK_400, limit=20, order=30)
def webhook(adapter, settings):
    secret = adapter.get_config(KEY)
    if not secret:
        return [problem(WEBHOOK_400, '%s is not set in the configuration of %s: no event can be verified'
                        % (KEY, adapter.describe()), fix='rotate_webhook_secret',
                        fix_note='-e rotate_webhook_secret_new=<the dashboard\'s value> sets it')]
    url = settings.health.backend_url.rstrip('/') + settings.webhook_path
    running = _running_secret(adapter, settings)
    return [_verification(url, settings, secret, running), _dashboard(settings, secret)]
