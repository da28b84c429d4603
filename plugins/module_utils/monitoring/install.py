# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install one Prometheus or Alertmanager config file: validated by the
server's own checker (promtool check rules, amtool check-config) before it
is written, written with the collection's atomic writer, then the server
reloaded through its HTTP reload endpoint (needs --web.enable-lifecycle)
and the reload verified by asking the server what it holds.

``changed`` comes from one comparison, of the file's bytes before and after,
in check mode as in a run; a server that does not hold the installed
content (a reload missed earlier) is reloaded even when the file is
unchanged."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import tempfile

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils._safefs import SafeDir
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError, VerificationError


class Target(object):
    """What differs between a rules file for Prometheus and alertmanager.yml:
    the checker's argv and how to read back what the server holds."""

    def __init__(self, what, check_argv, holds):
        self.what = what
        self.check_argv = check_argv
        self.holds = holds


def prometheus_rules(promtool, expected_alerts):
    """Prometheus holds the rules when /api/v1/rules lists every alert of the file."""
    def holds(answer):
        loaded = set(rule.get('name') for group in answer.get('data', {}).get('groups', [])
                     for rule in group.get('rules', []))
        return set(expected_alerts) <= loaded
    return Target('Prometheus rules', [promtool, 'check', 'rules'], ('/api/v1/rules', holds))


def alertmanager_config(amtool, receiver):
    """Alertmanager holds the config when /api/v2/status shows its receiver."""
    def holds(answer):
        return ('name: %s' % receiver) in (answer.get('config') or {}).get('original', '')
    return Target('Alertmanager configuration', [amtool, 'check-config'], ('/api/v2/status', holds))


def validate(module, target, text, dest_var):
    """Run the checker on ``text`` in a private temporary directory."""
    tmp = tempfile.mkdtemp(prefix='quickbite-monitoring-')
    try:
        path = os.path.join(tmp, 'candidate.yml')
        with open(path, 'w') as handle:
            handle.write(text)
        if not os.access(target.check_argv[0], os.X_OK):
            raise ConfigError('cannot validate the %s: %s is not installed; install Debian\'s prometheus (promtool) '
                              'and prometheus-alertmanager (amtool) on the host, or set the module\'s promtool/amtool '
                              'option to where they are' % (target.what, target.check_argv[0]))
        rc, out, err = module.run_command(target.check_argv + [path])
        if rc != 0:
            checker = ' '.join(target.check_argv[:3])
            raise ConfigError('the rendered %s for %s do not pass `%s`: %s; nothing was installed; fix the '
                              'variables that rendered them'
                              % (target.what, dest_var, checker, (out + err).replace(path, 'candidate').strip()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read(dest, dest_var):
    with SafeDir(os.path.dirname(dest), dest_var, create=False) as directory:
        if not directory.exists(os.path.basename(dest)):
            return None
        return directory.read_bytes(os.path.basename(dest)).decode('utf-8', 'replace')


def _server_holds(target, server_url, validate_certs):
    path, holds = target.holds
    try:
        status, body = _http.request(server_url.rstrip('/') + path, validate_certs=validate_certs)
    except _http.NO_ANSWER as exc:
        raise PlatformError('%s at %s: %s; start it (with --web.enable-lifecycle), or leave the server URL empty '
                            'to install the file only' % (target.what, server_url, _http.failure(exc)))
    if status != 200:
        return False
    try:
        return holds(json.loads(body))
    except (ValueError, AttributeError):
        return False


def _reload(target, server_url, validate_certs):
    url = server_url.rstrip('/') + '/-/reload'
    try:
        status, body = _http.request(url, method='POST', data=b'', validate_certs=validate_certs)
    except _http.NO_ANSWER as exc:
        raise PlatformError('reloading the %s: POST %s: %s' % (target.what, url, _http.failure(exc)))
    if status != 200:
        raise PlatformError('reloading the %s: POST %s answered %d: %s; start the server with '
                            '--web.enable-lifecycle (or send it SIGHUP), and read its log for the reason'
                            % (target.what, url, status, body.decode('utf-8', 'replace').strip()[:300]))


def install(module, target, text, dest, dest_var, mode=0o644, server_url=None, validate_certs=True):
    """The result of installing ``text`` at ``dest``."""
    if not os.path.isabs(dest):
        raise ConfigError('%s must be an absolute path, got %r' % (dest_var, dest))
    validate(module, target, text, dest_var)
    before = _read(dest, dest_var)
    changed = before != text
    holds = None
    if server_url:
        holds = _server_holds(target, server_url, validate_certs) if not changed else False
    reload_needed = bool(server_url) and (changed or not holds)
    result = dict(changed=changed, dest=dest, validated=True, reloaded=False)
    if module._diff:
        result['diff'] = dict(before=before or '', after=text, before_header=dest, after_header=dest)
    if module.check_mode:
        result['reloaded'] = reload_needed
        return result
    if changed:
        with SafeDir(os.path.dirname(dest), dest_var, create=False) as directory:
            directory.write_atomic(os.path.basename(dest), text, mode)
    if reload_needed:
        _reload(target, server_url, validate_certs)
        if not _server_holds(target, server_url, validate_certs):
            raise VerificationError('the %s were written to %s and the server reloaded, but %s does not hold them; '
                                    'read its log (a rule file not listed in its rule_files, or a config error)'
                                    % (target.what, dest, server_url), dest=dest)
        result['reloaded'] = True
        result['changed'] = True
    return result


def install_object(module, adapter, target, groups, text, name, labels):
    """The result of installing the rule ``groups`` as the platform's own
    alerting-rules object ``name`` (Kubernetes: a PrometheusRule the
    Prometheus Operator loads; adapter.stores_alert_rules), validated first."""
    validate(module, target, text, 'rules')
    before = adapter.read_alert_rules(name)
    changed = before != groups
    result = dict(changed=changed, object=name, validated=True, reloaded=False)
    if module._diff:
        result['diff'] = dict(before=dump_groups(before), after=dump_groups(groups), before_header=name,
                              after_header=name)
    if changed and not module.check_mode:
        adapter.write_alert_rules(name, groups, labels)
        if adapter.read_alert_rules(name) != groups:
            raise VerificationError('the alerting rules %s were written to %s but read back different; run again, '
                                    'and check what else manages that object' % (name, adapter.describe()))
    return result


def dump_groups(groups):
    return '' if groups is None else json.dumps({'groups': groups}, indent=2, sort_keys=True) + '\n'
