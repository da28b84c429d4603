# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin client for the Docker Engine API on the local unix socket.

It lists a Compose project's containers as ``docker compose ps --all`` does
(same filters, same rows) and restarts containers with the call ``docker
compose restart`` makes (ContainerRestart), without starting the compose CLI,
which costs about 0.2 s a call. Only the list endpoint is read: it carries no
container environment, so no secret is ever read (the inspect endpoint would
carry Config.Env). Used only when the docker CLI would talk to the same daemon:
with DOCKER_HOST pointing elsewhere, a docker context, or no socket,
``local_engine`` returns None and the caller uses the CLI.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import http.client
import json
import os
import re
import socket
from urllib.parse import urlencode

DEFAULT_SOCKET = '/var/run/docker.sock'
PROJECT_LABEL = 'com.docker.compose.project'
SERVICE_LABEL = 'com.docker.compose.service'
ONEOFF_LABEL = 'com.docker.compose.oneoff'
CONFIG_HASH_LABEL = 'com.docker.compose.config-hash'

# The daemon's status line: "Up 3 minutes (healthy)", "Up 1 second (health: starting)",
# "Exited (137) 5 seconds ago".
_HEALTH_IN_STATUS = re.compile(r'\((healthy|unhealthy|health: starting)\)$')
_EXIT_IN_STATUS = re.compile(r'^Exited \((-?\d+)\)')


class EngineError(Exception):
    """The socket or the daemon did not answer as expected: use the CLI."""


class _UnixHTTPConnection(http.client.HTTPConnection):

    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


def local_socket(environ=None, default=DEFAULT_SOCKET):
    """The daemon socket the docker CLI would use here, or None when it would
    talk to another daemon (DOCKER_HOST elsewhere, a context) or none is there."""
    env = os.environ if environ is None else environ
    host = env.get('DOCKER_HOST') or ''
    if host:
        if not host.startswith('unix://'):
            return None
        path = host[len('unix://'):]
    else:
        path = default
    if env.get('DOCKER_CONTEXT') not in (None, '', 'default'):
        return None
    config_dir = env.get('DOCKER_CONFIG') or os.path.join(env.get('HOME') or os.path.expanduser('~'), '.docker')
    try:
        with open(os.path.join(config_dir, 'config.json')) as handle:
            current = json.load(handle).get('currentContext')
    except (IOError, OSError):
        current = None
    except ValueError:  # the CLI would fail on it too; let it say so
        return None
    if current not in (None, '', 'default'):
        return None
    return path if os.path.exists(path) else None


def local_engine(environ=None):
    path = local_socket(environ)
    return EngineAPI(path) if path else None


class EngineAPI(object):

    def __init__(self, path, timeout=10):
        self.path = path
        self.timeout = timeout

    def _call(self, method, path, query, expect, timeout=None):
        url = path + ('?' + urlencode(query) if query else '')
        conn = _UnixHTTPConnection(self.path, timeout or self.timeout)
        try:
            conn.request(method, url, headers={'Host': 'docker'})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise EngineError('docker socket %s: %s' % (self.path, exc))
        finally:
            conn.close()
        if response.status != expect:
            raise EngineError('docker socket %s: %s %s answered %d: %s'
                              % (self.path, method, path, response.status, body[:200].decode('utf-8', 'replace')))
        return body

    def get(self, path, query=None):
        """Decoded JSON of a GET; EngineError on anything but a 200."""
        body = self._call('GET', path, query, 200)
        try:
            return json.loads(body.decode('utf-8'))
        except ValueError as exc:
            raise EngineError('docker socket %s: GET %s: not JSON (%s)' % (self.path, path, exc))

    def project_containers(self, project):
        """Every container of the project, stopped and one-off ones included,
        with the filters ``compose ps --all`` uses."""
        filters = {'label': ['%s=%s' % (PROJECT_LABEL, project.lower()), CONFIG_HASH_LABEL]}
        return self.get('/containers/json', {'all': '1', 'filters': json.dumps(filters)})

    def restart(self, container_id):
        """ContainerRestart as ``docker compose restart`` calls it: no timeout
        given, so the daemon waits the container's own stop timeout (Compose
        sets it from stop_grace_period) before killing it."""
        # The call returns once the container has started again, after up to
        # the stop timeout (10 s unless configured, max allowed 1 h here).
        self._call('POST', '/containers/%s/restart' % container_id, None, 204, timeout=3600)


def service_containers(summaries, service):
    """The containers ``compose restart <service>`` acts on: the service's,
    without one-off (``compose run``) containers."""
    return [c for c in summaries if (c.get('Labels') or {}).get(SERVICE_LABEL) == service
            and (c.get('Labels') or {}).get(ONEOFF_LABEL) != 'True']


def _canonical_name(summary):
    """As compose names a container: its own name, not a link alias."""
    names = summary.get('Names') or []
    for name in names:
        if name.rfind('/') == 0:
            return name[1:]
    return names[0].lstrip('/') if names else summary.get('Id', '')[:12]


def ps_row(summary):
    """One container list entry as a ``compose ps --format json`` row (the
    fields the adapter reads). Compose takes Health and ExitCode from an
    inspect; the list carries them in its status line (or, from API 1.52, a
    Health object)."""
    state = summary.get('State') or ''
    status = summary.get('Status') or ''
    health = ''
    if state == 'running':
        reported = (summary.get('Health') or {}).get('Status') if isinstance(summary.get('Health'), dict) else None
        if reported and reported != 'none':
            health = reported
        else:
            match = _HEALTH_IN_STATUS.search(status)
            if match:
                health = 'starting' if match.group(1) == 'health: starting' else match.group(1)
            elif status.endswith(')'):
                # A status line this client does not know: never taken for healthy,
                # so the adapter inspects the container instead.
                health = 'unknown'
    exit_code = 0
    if state in ('exited', 'dead'):
        match = _EXIT_IN_STATUS.match(status)
        exit_code = int(match.group(1)) if match else 0
    labels = summary.get('Labels') or {}
    return dict(ID=summary.get('Id'), Name=_canonical_name(summary), Image=summary.get('Image'),
                ImageID=summary.get('ImageID'),
                Project=labels.get(PROJECT_LABEL), Service=labels.get(SERVICE_LABEL), State=state,
                Status=status, Health=health, ExitCode=exit_code, Labels=labels)
