# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixes of the runbook's frontend sections, for module frontend_fix:

- ``websocket_timeouts``: where requests come through Ingress objects
  (adapter.has_ingress), their ingress-nginx proxy-read-timeout and
  proxy-send-timeout annotations are patched up to the wanted seconds;
  otherwise (the frontend's own nginx is the edge) proxy_read_timeout and
  proxy_send_timeout of every location that passes WebSocket upgrades on
  and keeps them below the threshold are set in the deployment's nginx.conf.
- ``spa_fallback``: ``try_files $uri $uri/ /index.html`` in ``location /``.

A file fix: the file must be the one the frontend runs (its bytes are a file
of ``nginx -T`` in the container); the edit is proven by reparsing
(nginx_edit), written through _safefs (atomic, mode and owner kept), then
``nginx -t`` runs in the container: on failure the old bytes go back and the
run fails; on success nginx reloads. ``changed`` comes from one comparison,
the file's text before and after (the Ingress annotations before and
after); check mode makes the same comparison and writes nothing."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import nginx_edit
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.blank_page import INDEX, spa_location
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.frontend import Frontend
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.nginx_config import parse_time
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.websocket import (
    ANNOTATIONS, INGRESS_DEFAULT, TIMEOUTS, websocket_locations)
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import nginx_config
from ansible_collections.quickbite.ops.plugins.module_utils.errors import Changes, ConfigError, VerificationError


class FixSettings(object):
    def __init__(self, **kwargs):
        self.fix = kwargs['fix']
        self.nginx_conf = kwargs['nginx_conf']
        self.conf_var = kwargs.get('conf_var', 'nginx_conf')
        self.frontend_service = kwargs.get('frontend_service', 'frontend')
        self.timeout_seconds = kwargs.get('timeout_seconds', 3600)
        self.min_seconds = kwargs.get('min_seconds', 60)
        self.ingress_seconds = kwargs.get('ingress_seconds', 3600)
        self.try_files = kwargs.get('try_files') or ['$uri', '$uri/', '/' + INDEX]
        self.command_timeout = kwargs.get('command_timeout', 10)
        self.check_mode = kwargs.get('check_mode', False)
        self.diff = kwargs.get('diff', False)


def run(adapter, settings):
    if settings.fix == 'websocket_timeouts' and adapter.has_ingress:
        return _ingress_fix(adapter, settings)
    return _file_fix(adapter, settings)


# ---------------------------------------------------------------- Ingress

def _ingress_fix(adapter, settings):
    wanted = settings.ingress_seconds
    plans, before_all, after_all = [], {}, {}
    for ingress in adapter.ingresses():
        low = {}
        for key in ANNOTATIONS:
            value = ingress['annotations'].get(key)
            seconds = parse_time(value if value is not None else INGRESS_DEFAULT)
            if seconds is None or seconds < wanted:
                low[key] = str(wanted)
        before_all[ingress['name']] = dict((k, ingress['annotations'].get(k)) for k in ANNOTATIONS)
        after_all[ingress['name']] = dict(before_all[ingress['name']], **low)
        if low:
            plans.append((ingress['name'], low))
    result = dict(changed=bool(plans), fix=settings.fix, target=adapter.describe(), platform=adapter.platform,
                  edits=['Ingress %s: %s' % (name, ', '.join('%s=%s' % (k, v) for k, v in sorted(low.items())))
                         for name, low in plans])
    if settings.diff:
        result['diff'] = dict(before=_yaml(before_all), after=_yaml(after_all), before_header='Ingress annotations',
                              after_header='Ingress annotations')
    if not before_all:
        result['msg'] = 'no Ingress in %s: nothing to patch' % adapter.describe()
        return result
    if not plans or settings.check_mode:
        result['msg'] = ('would patch %s' % '; '.join(result['edits']) if plans else
                         'every Ingress keeps WebSockets open %d s or more: nothing to change' % wanted)
        return result
    with Changes() as changes:
        for name, low in plans:
            adapter.set_ingress_annotations(name, low)
            changes.made = True
        now = dict((i['name'], i['annotations']) for i in adapter.ingresses())
        wrong = [name for name, low in plans if any(now.get(name, {}).get(k) != v for k, v in low.items())]
        if wrong:
            raise VerificationError('Ingress %s does not read back the patched annotations; check kubectl get ingress '
                                    '-o yaml' % ', '.join(wrong))
    result['msg'] = 'patched %s' % '; '.join(result['edits'])
    return result


def _yaml(annotations):
    lines = []
    for name in sorted(annotations):
        lines.append('%s:' % name)
        for key, value in sorted(annotations[name].items()):
            lines.append('  %s: %s' % (key, '"%s"' % value if value is not None else '(unset)'))
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------- the file

def _read(path, var, has_ingress=False):
    if not os.path.isfile(path):
        where = (' (where requests come through Ingress, as here, the frontend\'s nginx.conf is usually in its image '
                 'or a ConfigMap: change it there and roll the frontend)' if has_ingress else '')
        raise ConfigError('%s %s is not a file: set %s to the deployment\'s nginx.conf, the file mounted into the '
                          'frontend container%s' % (var, path, var, where))
    with _safefs.SafeDir(os.path.dirname(path), var, create=False, check=False) as directory:
        return directory.read_bytes(os.path.basename(path)).decode('utf-8')


def _write(path, data, var):
    st = os.stat(path)
    with _safefs.SafeDir(os.path.dirname(path), var, create=False, check=False) as directory:
        directory.write_atomic(os.path.basename(path), data.encode('utf-8'), stat.S_IMODE(st.st_mode),
                               owner=(st.st_uid, st.st_gid))


def _container_path(config, text, settings, frontend):
    """The path under which the frontend loads the host file (its bytes are one file of nginx -T)."""
    for path, content in config.files.items():
        if content == text:
            return path
    raise ConfigError('%s %s is not a file of the configuration the frontend runs: nginx -T in %s shows none with '
                      'its content (it loads %s); set %s to the file mounted into the container'
                      % (settings.conf_var, settings.nginx_conf, frontend.where, ', '.join(config.files),
                         settings.conf_var))


def _websocket_edits(config, settings):
    edits = []
    value = '%ds' % settings.timeout_seconds
    for server, chain in config.locations():
        if not nginx_config.upgrades_websockets(config, server, chain):
            continue
        for name in TIMEOUTS:
            args, dummy = config.effective(server, chain, name)
            seconds = parse_time(args[0]) if args else None
            if seconds is None or seconds < settings.min_seconds:
                edits.append(nginx_edit.Edit(server, chain, name, [value]))
    return edits


def _spa_edits(config, settings):
    server, chain = spa_location(config)
    if server is None:
        raise ConfigError('no "location /" in the nginx configuration to give the SPA fallback: add one by hand '
                          '(location / { try_files %s; })' % ' '.join(settings.try_files))
    args, dummy = config.effective(server, chain, 'try_files')
    if args == settings.try_files:
        return []
    return [nginx_edit.Edit(server, chain, 'try_files', settings.try_files)]


def _file_fix(adapter, settings):
    text = _read(settings.nginx_conf, settings.conf_var, adapter.has_ingress)
    frontend = Frontend(adapter, settings.frontend_service, settings.command_timeout)
    config = frontend.config()
    path = _container_path(config, text, settings, frontend)
    edits = _websocket_edits(config, settings) if settings.fix == 'websocket_timeouts' else _spa_edits(config, settings)
    new = nginx_edit.apply(text, config, edits, path) if edits else text
    result = dict(changed=new != text, fix=settings.fix, target=adapter.describe(), platform=adapter.platform,
                  file=settings.nginx_conf, container_file=path, edits=[e.describe() for e in edits])
    if settings.fix == 'websocket_timeouts':
        result['locations'] = websocket_locations(config, settings.min_seconds)
    if settings.diff:
        result['diff'] = dict(before=text, after=new, before_header=settings.nginx_conf,
                              after_header=settings.nginx_conf)
    if not result['changed']:
        result['msg'] = 'nothing to change in %s: %s' % (settings.nginx_conf, _already(settings))
        return result
    if settings.check_mode:
        result['msg'] = 'would set %s in %s, test and reload nginx' % ('; '.join(result['edits']), settings.nginx_conf)
        return result
    return _write_test_reload(frontend, settings, text, new, result)


def _already(settings):
    if settings.fix == 'websocket_timeouts':
        return 'every location passing WebSocket upgrades keeps them open %d s or more' % settings.min_seconds
    return 'location / already falls back with try_files %s' % ' '.join(settings.try_files)


def _write_test_reload(frontend, settings, old, new, result):
    with Changes() as changes:
        _write(settings.nginx_conf, new, settings.conf_var)
        changes.made = True
        passed, output = frontend.test()
        result['nginx_test'] = output
        if not passed:
            _write(settings.nginx_conf, old, settings.conf_var)
            again, dummy = frontend.test()
            changes.made = False
            raise VerificationError(
                'nginx -t refused the edited %s (%s): %s; the old file was put back (nginx -t %s) and nginx was not '
                'reloaded, so it still runs the old configuration' % (
                    settings.nginx_conf, '; '.join(result['edits']), output, 'passes' if again else 'still fails'),
                changed=False, nginx_test=output, edits=result['edits'])
        frontend.reload()
        seen = nginx_config.parse_dump(frontend.dump())
        if seen.files.get(result['container_file']) != new:
            raise VerificationError('nginx in %s does not see the edited %s after the reload (nginx -T shows other '
                                    'bytes for %s): check the mount of the frontend container'
                                    % (frontend.where, settings.nginx_conf, result['container_file']))
    result['msg'] = 'set %s in %s; nginx -t passed and nginx reloaded' % (
        '; '.join(result['edits']), settings.nginx_conf)
    return result
