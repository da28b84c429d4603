# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install one Prometheus or Alertmanager config file: validated by the
server's own checker (promtool check rules, amtool check-config) before it
is written, written with the collection's atomic writer, then the server
reloaded, through its HTTP reload endpoint (Prometheus needs
--web.enable-lifecycle for it) or by SIGHUP to the process its pid file
names (what systemd's ExecReload does), and the reload verified by asking
the server what it holds.

``changed`` comes from one comparison, of the file's bytes before and after,
in check mode as in a run; a server that does not hold the installed
content (a reload missed earlier) is reloaded even when the file is
unchanged."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import signal
import tempfile
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils._safefs import SafeDir
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError, VerificationError


class Target(object):
    """What differs between a rules file for Prometheus and alertmanager.yml:
    the checker's argv, how to read back what the server holds, the programs
    a SIGHUP may go to, and what changes on the server at each reload."""

    def __init__(self, what, check_argv, holds, programs=(), loaded=None):
        self.what = what
        self.check_argv = check_argv
        self.holds = holds
        self.programs = programs
        self.loaded = loaded  # (path, answer -> a value that changes at each reload)


def prometheus_rules(promtool, expected_alerts):
    """Prometheus holds the rules when /api/v1/rules lists every alert of the
    file; each reload, successful or not, changes its runtime information."""
    def holds(answer):
        loaded = set(rule.get('name') for group in answer.get('data', {}).get('groups', [])
                     for rule in group.get('rules', []))
        return set(expected_alerts) <= loaded

    def reloaded(answer):
        data = answer.get('data') or {}
        return data.get('lastConfigTime'), data.get('reloadConfigSuccess')
    return Target('Prometheus rules', [promtool, 'check', 'rules'], ('/api/v1/rules', holds),
                  programs=('prometheus',), loaded=('/api/v1/status/runtimeinfo', reloaded))


def alertmanager_config(amtool, receiver):
    """Alertmanager holds the config when /api/v2/status shows its receiver;
    the configuration it shows changes at each reload of a changed file."""
    def holds(answer):
        return ('name: %s' % receiver) in (answer.get('config') or {}).get('original', '')

    def reloaded(answer):
        return (answer.get('config') or {}).get('original')
    return Target('Alertmanager configuration', [amtool, 'check-config'], ('/api/v2/status', holds),
                  programs=('prometheus-alertmanager', 'alertmanager'), loaded=('/api/v2/status', reloaded))


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


def _get(target, server_url, path, validate_certs):
    try:
        status, body = _http.request(server_url.rstrip('/') + path, validate_certs=validate_certs)
        return json.loads(body) if status == 200 else None
    except (ValueError, AttributeError):
        return None
    except _http.NO_ANSWER as exc:
        raise PlatformError('%s at %s: %s' % (target.what, server_url, _http.failure(exc)))


def _server_pid(target, pid_file, pid_var):
    """The PID in ``pid_file`` once /proc shows it runs one of target.programs."""
    if not pid_file or not os.path.isabs(pid_file):
        raise ConfigError('%s must be the absolute path of the server\'s pid file for a SIGHUP reload, got %r; or '
                          'reload through HTTP' % (pid_var, pid_file))
    try:
        fd = os.open(pid_file, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        with os.fdopen(fd) as handle:
            pid = int(handle.read(32).strip())
    except (IOError, OSError, ValueError) as exc:
        raise ConfigError('cannot read a PID from %s (%s): %s; is the %s server running? Set %s to its pid file, or '
                          'reload through HTTP' % (pid_file, pid_var, getattr(exc, 'strerror', None) or exc,
                                                   target.what, pid_var))
    try:
        program = os.path.basename(os.readlink('/proc/%d/exe' % pid))
    except OSError:
        raise ConfigError('%s names PID %d, which does not run (a stale pid file); start the server, or fix %s'
                          % (pid_file, pid, pid_var))
    if program not in target.programs:
        raise ConfigError('%s names PID %d, which runs %s, not %s: refusing to signal it; fix %s'
                          % (pid_file, pid, program, ' or '.join(target.programs), pid_var))
    return pid


def _sighup(target, server_url, validate_certs, pid_file, pid_var, timeout, sleep=time.sleep, clock=time.monotonic):
    """SIGHUP to the server, then wait until it shows a reload (target.loaded)."""
    pid = _server_pid(target, pid_file, pid_var)
    path, marker = target.loaded
    before = marker(_get(target, server_url, path, validate_certs) or {})
    os.kill(pid, signal.SIGHUP)
    deadline = clock() + timeout
    while True:
        now = marker(_get(target, server_url, path, validate_certs) or {})
        if now != before:
            if isinstance(now, tuple) and now[1] is False:
                raise PlatformError('the %s server (PID %d) reloaded after SIGHUP but refused the configuration; read '
                                    'its log for the reason' % (target.what, pid))
            return
        if clock() > deadline:
            raise PlatformError('SIGHUP sent to the %s server (PID %d from %s), but %s did not show a reload within '
                                '%d s; read its log' % (target.what, pid, pid_file, server_url, timeout))
        sleep(0.1)


def install(module, target, text, dest, dest_var, mode=0o644, server_url=None, validate_certs=True, reload='http',
            pid_file=None, pid_var='pid_file', reload_timeout=30):
    """The result of installing ``text`` at ``dest``; the server reloaded
    (``reload``: http or sighup) when it does not hold what is installed."""
    if not os.path.isabs(dest):
        raise ConfigError('%s must be an absolute path, got %r' % (dest_var, dest))
    validate(module, target, text, dest_var)
    before = _read(dest, dest_var)
    changed = before != text
    holds = None
    if server_url:
        holds = _server_holds(target, server_url, validate_certs) if not changed else False
    reload_needed = bool(server_url) and (changed or not holds)
    result = dict(changed=changed, dest=dest, validated=True, reloaded=False, reload=reload)
    if module._diff:
        result['diff'] = dict(before=before or '', after=text, before_header=dest, after_header=dest)
    if reload_needed and reload == 'sighup':
        _server_pid(target, pid_file, pid_var)  # a wrong pid file is refused before anything is written
    if module.check_mode:
        result['reloaded'] = reload_needed
        return result
    if changed:
        with SafeDir(os.path.dirname(dest), dest_var, create=False) as directory:
            directory.write_atomic(os.path.basename(dest), text, mode)
    if reload_needed:
        if reload == 'sighup':
            _sighup(target, server_url, validate_certs, pid_file, pid_var, reload_timeout)
        else:
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
    return _install_object(module, adapter.describe(), 'alerting rules', name, {'groups': groups},
                           lambda: _wrap(adapter.read_alert_rules(name)),
                           lambda: adapter.write_alert_rules(name, groups, labels))


def install_routing_object(module, adapter, target, spec, text, name, labels):
    """The result of installing the Alertmanager routing ``spec`` as the
    platform's own routing object ``name`` (Kubernetes: an AlertmanagerConfig
    the Prometheus Operator merges into Alertmanager's configuration;
    adapter.stores_alert_routing), ``text`` (the same routing as
    alertmanager.yml) validated by amtool first."""
    validate(module, target, text, 'alertmanager')
    return _install_object(module, adapter.describe(), 'Alertmanager routing', name, spec,
                           lambda: adapter.read_alert_routing(name),
                           lambda: adapter.write_alert_routing(name, spec, labels))


def _wrap(groups):
    return None if groups is None else {'groups': groups}


def _install_object(module, where, what, name, wanted, read, write):
    """``changed`` from one comparison of the object's spec before and after."""
    before = read()
    changed = before != wanted
    result = dict(changed=changed, object=name, validated=True, reloaded=False)
    if module._diff:
        result['diff'] = dict(before=dump_object(before), after=dump_object(wanted), before_header=name,
                              after_header=name)
    if changed and not module.check_mode:
        write()
        if read() != wanted:
            raise VerificationError('the %s %s were written to %s but read back different; run again, and check '
                                    'what else manages that object' % (what, name, where))
    return result


def dump_object(spec):
    return '' if spec is None else json.dumps(spec, indent=2, sort_keys=True) + '\n'
