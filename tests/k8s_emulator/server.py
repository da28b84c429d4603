"""HTTP front of the emulator: the Kubernetes REST paths the ``kubernetes``
client uses, discovery, watch streams, and the ``/_emulator/...`` control
endpoints for out-of-process tests (Molecule).

Standard library only (``http.server.ThreadingHTTPServer``, HTTP/1.1 with
keep-alive, one thread per connection), so the foreground ``serve`` command
runs with any Python 3.8+ that can import this package.
"""

import argparse
import json
import os
import queue
import re
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import podexec, rbac, tables, tls as tlsutil, watchlist
from .core import RESOURCES, ApiError, Emulator

CONTROL_PREFIX = '/_emulator'


def _flag(value):
    return str(value).lower() in ('1', 'true', 'yes', 'on')


class Watcher(object):
    """One watch request: receives events under the emulator lock, streams outside it."""

    def __init__(self, plural, namespace, match):
        self.plural, self.namespace, self.match = plural, namespace, match
        self.queue = queue.Queue()
        self.closed = False

    def offer(self, kind, plural, obj):
        if plural != self.plural:
            return
        if self.namespace and obj['metadata'].get('namespace') != self.namespace:
            return
        if not self.match(obj):
            return
        res = RESOURCES[plural]
        out = dict(obj, apiVersion=res.api_version, kind=res.kind)  # obj is an immutable snapshot
        self.queue.put({'type': kind, 'object': out})

    def close(self):
        self.closed = True
        self.queue.put(None)


def _discovery_resources(group, version):
    out = []
    for res in RESOURCES.values():
        if res.group != group or res.version != version:
            continue
        verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
        out.append({'name': res.plural, 'singularName': res.kind.lower(), 'namespaced': res.namespaced,
                    'kind': res.kind, 'verbs': verbs, 'shortNames': list(res.short)})
        for sub in res.subresources:
            entry = {'name': '%s/%s' % (res.plural, sub), 'singularName': '', 'namespaced': res.namespaced,
                     'kind': res.kind, 'verbs': ['get', 'patch', 'update']}
            if sub == 'scale':
                entry.update(kind='Scale', group='autoscaling', version='v1')
            if sub == 'log':
                entry.update(kind='Pod', verbs=['get'])
            if sub == 'exec':
                entry.update(kind='PodExecOptions', verbs=['create', 'get'])
            out.append(entry)
    return out


def _groups():
    """The API groups served (apps first, as kubectl lists them)."""
    names = sorted({res.group for res in RESOURCES.values() if res.group})
    return sorted(names, key=lambda n: n != 'apps')


def _versions(name):
    """The versions of group ``name`` (v1 first, the preferred one): monitoring.coreos.com
    serves v1 (PrometheusRule) and v1alpha1 (AlertmanagerConfig); every other group v1."""
    return sorted({res.version for res in RESOURCES.values() if res.group == name}, key=lambda v: (v != 'v1', v))


def _group(name):
    versions = [{'groupVersion': '%s/%s' % (name, v), 'version': v} for v in _versions(name)]
    return {'name': name, 'versions': versions, 'preferredVersion': versions[0]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'k8s-emulator/1.0'
    emulator = None  # set on the subclass made per server

    def log_message(self, fmt, *args):  # quiet; requests are kept in emulator.requests
        if os.environ.get('K8S_EMULATOR_DEBUG'):
            sys.stderr.write('k8s-emulator: ' + (fmt % args) + '\n')

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_PUT(self):
        self._dispatch('PUT')

    def do_PATCH(self):
        self._dispatch('PATCH')

    def do_DELETE(self):
        self._dispatch('DELETE')

    # ------------------------------------------------------------ plumbing

    def _send(self, code, body, content_type='application/json'):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def _read_body(self):
        """Always consume the body first: a keep-alive connection must not keep unread bytes."""
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            raw = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
            return raw
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def _body(self):
        raw = self._raw_body
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            ctype = self.headers.get('Content-Type', '')
            if 'yaml' in ctype:
                try:
                    import yaml
                    return yaml.safe_load(raw)
                except Exception:
                    pass
            raise ApiError(400, 'BadRequest', 'the request body is not valid JSON')

    def _dispatch(self, method):
        em = self.emulator
        url = urlsplit(self.path)
        path = unquote(url.path).rstrip('/') or '/'
        q = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        em.requests.append((time.time(), method, path, q))
        self._raw_body = self._read_body()
        try:
            if path.startswith(CONTROL_PREFIX):
                return self._control(method, path[len(CONTROL_PREFIX):], q)
            if em.hold_if_hung(method, path, em._stop):
                self.close_connection = True      # never answered
                return
            self._user = em.authenticate(self.headers.get('Authorization', ''))
            if method == 'GET' and self._discovery(path):
                return
            self._resource(method, path, q)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # an emulator bug: show it to the client
            self._send(500, ApiError(500, 'InternalError', 'k8s emulator: %r\n%s' % (
                exc, traceback.format_exc())).status())

    # ------------------------------------------------------------ discovery

    def _discovery(self, path):
        if path == '/version':
            self._send(200, {'major': '1', 'minor': '30', 'gitVersion': 'v1.30.0-quickbite-emulator',
                             'gitCommit': '0000000000000000000000000000000000000000', 'gitTreeState': 'clean',
                             'buildDate': '2026-01-01T00:00:00Z', 'goVersion': 'go1.22.0', 'compiler': 'gc',
                             'platform': 'linux/amd64'})
        elif path == '/api':
            self._send(200, {'kind': 'APIVersions', 'versions': ['v1'], 'serverAddressByClientCIDRs': [
                {'clientCIDR': '0.0.0.0/0', 'serverAddress': self.server.server_address[0]}]})
        elif path == '/api/v1':
            self._send(200, {'kind': 'APIResourceList', 'groupVersion': 'v1',
                             'resources': _discovery_resources('', 'v1')})
        elif path == '/apis':
            self._send(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [
                _group(name) for name in _groups()]})
        elif path.startswith('/apis/') and path.count('/') == 2 and path[6:] in _groups():
            self._send(200, dict(_group(path[6:]), kind='APIGroup', apiVersion='v1'))
        elif path.startswith('/apis/') and path.count('/') == 3 and path[6:].split('/')[0] in _groups():
            group, version = path[6:].split('/')
            if version not in _versions(group):
                return False
            self._send(200, {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': '%s/%s' % (group, version),
                             'resources': _discovery_resources(group, version)})
        elif path in ('/healthz', '/readyz', '/livez'):
            self._send(200, 'ok', 'text/plain')
        else:
            return False
        return True

    # ------------------------------------------------------------ resources

    _API = re.compile(r'^/(?:api/(?P<cv>v1)|apis/(?P<g>[^/]+)/(?P<v>[^/]+))(?P<rest>(?:/[^/]+)*)$')

    def _route(self, path):
        m = self._API.match(path)
        if not m:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        group, version = ('', 'v1') if m.group('cv') else (m.group('g'), m.group('v'))
        parts = [p for p in m.group('rest').split('/') if p]
        namespace = name = sub = None
        if len(parts) >= 3 and parts[0] == 'namespaces' and parts[2] not in ('status', 'finalize'):
            namespace, parts = parts[1], parts[2:]
        if not parts:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        plural = parts[0]
        if len(parts) > 1:
            name = parts[1]
        if len(parts) > 2:
            sub = parts[2]
        if len(parts) > 3:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        res = RESOURCES.get(plural)
        if res is None or res.group != group or res.version != version:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if res.namespaced and name is not None and namespace is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if sub is not None and sub not in res.subresources:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        return res, namespace, name, sub

    def _resource(self, method, path, q):
        em = self.emulator
        res, namespace, name, sub = self._route(path)
        plural = res.plural
        em.authorize(self._user, rbac.request_verb(method, name, q, sub), res, namespace, name, sub)
        if sub == 'exec' and method == 'GET' and em.exec_create_check:
            em.authorize(self._user, 'create', res, namespace, name, sub)   # the WebSocket upgrade's compound check
        dry_run = 'dryRun' in q
        ctype = self.headers.get('Content-Type', '')
        table = tables.wants_table(self.headers.get('Accept'))
        if method == 'GET' and name is None:
            if _flag(q.get('watch', 'false')):
                return self._watch(plural, namespace, q)
            listing = em.api_list(plural, namespace, q.get('labelSelector'), q.get('fieldSelector'))
            if table:
                listing = tables.to_table(plural, listing['items'], listing['metadata']['resourceVersion'],
                                          q.get('includeObject', 'PartialObjectMetadata'))
            return self._send(200, listing)
        if method == 'POST' and name is None:
            return self._send(201, em.api_create(plural, namespace, self._body(), dry_run))
        if method == 'DELETE' and name is None:
            self._body()
            return self._send(200, em.api_delete_collection(plural, namespace, q.get('labelSelector'),
                                                            q.get('fieldSelector')))
        if name is None:
            raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
        if sub == 'log':
            if method != 'GET':
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method')
            text = em.pod_log(namespace, name, container=q.get('container'),
                              tail_lines=q.get('tailLines'), since_seconds=q.get('sinceSeconds'),
                              since_time=q.get('sinceTime'), previous=_flag(q.get('previous', 'false')),
                              timestamps=_flag(q.get('timestamps', 'false')), limit_bytes=q.get('limitBytes'))
            return self._send(200, text, 'text/plain')
        if sub == 'exec':
            if method not in ('GET', 'POST'):
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method')
            return podexec.serve(self, em, namespace, name)
        if sub == 'scale':
            if method == 'GET':
                return self._send(200, em.get_scale(plural, namespace, name))
            if method == 'PUT':
                return self._send(200, em.set_scale(plural, namespace, name, body=self._body(), dry_run=dry_run))
            if method == 'PATCH':
                return self._send(200, em.set_scale(plural, namespace, name, patch=self._body(),
                                                    content_type=ctype, dry_run=dry_run))
            raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method')
        if method == 'GET':
            obj = em.api_get(plural, namespace, name)
            if table and sub is None:
                obj = tables.to_table(plural, [obj], obj['metadata']['resourceVersion'],
                                      q.get('includeObject', 'PartialObjectMetadata'))
            return self._send(200, obj)
        if method == 'PUT':
            return self._send(200, em.api_replace(plural, namespace, name, self._body(), sub, dry_run))
        if method == 'PATCH':
            body = self._body()
            if body is None:
                raise ApiError(400, 'BadRequest', 'the patch body is empty')
            code = 201 if ctype.startswith('application/apply-patch') and em.get(
                plural, name, namespace) is None else 200
            return self._send(code, em.api_patch(plural, namespace, name, body, ctype, sub, dry_run))
        if method == 'DELETE':
            body = self._body() or {}
            grace = q.get('gracePeriodSeconds', body.get('gracePeriodSeconds'))
            return self._send(200, em.api_delete(plural, namespace, name, grace, dry_run, body.get('preconditions')))
        raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

    def _watch(self, plural, namespace, q):
        em = self.emulator
        match = em._matcher(q.get('labelSelector'), q.get('fieldSelector'))
        watcher = Watcher(plural, namespace, match)
        send_initial = watchlist.initial_events(q)
        rv = q.get('resourceVersion')
        since = rv if rv not in (None, '', '0') else None
        if since is not None and not since.isdigit():
            raise ApiError(400, 'BadRequest', 'invalid resource version %r' % since)
        if send_initial:     # watch-list: the state now (NotOlderThan the rv), then the changes
            since = None
        with em._lock:
            listing = em.api_list(plural, namespace, q.get('labelSelector'), q.get('fieldSelector'))
            initial = [] if since is not None or send_initial is False else listing['items']
            fresh = em.add_watcher(watcher, since)
        end_bookmark = None
        if send_initial and _flag(q.get('allowWatchBookmarks', 'false')):
            end_bookmark = watchlist.initial_events_end(RESOURCES[plural], listing['metadata']['resourceVersion'])
        if not fresh:
            gone = ApiError(410, 'Expired', 'too old resource version: %s' % since).status()
            initial, watcher = [], None
        timeout = float(q.get('timeoutSeconds') or 1800)
        deadline = time.time() + timeout
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()

        def chunk(data):
            self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            self.wfile.flush()

        try:
            if watcher is None:
                chunk(json.dumps({'type': 'ERROR', 'object': gone}).encode() + b'\n')
                chunk(b'')
                return
            res = RESOURCES[plural]
            for obj in initial:
                obj['apiVersion'], obj['kind'] = res.api_version, res.kind
                chunk(json.dumps({'type': 'ADDED', 'object': obj}).encode() + b'\n')
            if end_bookmark is not None:
                chunk(json.dumps({'type': 'BOOKMARK', 'object': end_bookmark}).encode() + b'\n')
            while not watcher.closed:
                left = deadline - time.time()
                if left <= 0:
                    break
                try:
                    event = watcher.queue.get(timeout=min(left, 0.5))
                except queue.Empty:
                    continue
                if event is None:
                    break
                chunk(json.dumps(event).encode() + b'\n')
            chunk(b'')
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            if watcher is not None:
                em.remove_watcher(watcher)

    # ------------------------------------------------------------ control

    def _control(self, method, path, q):
        em = self.emulator
        body = self._body() if method in ('POST', 'PUT', 'PATCH') else None
        body = body or {}
        parts = [p for p in path.split('/') if p]
        cmd = parts[0] if parts else ''
        try:
            if method == 'GET' and cmd in ('', 'health'):
                return self._send(200, {'ok': True, 'ticks': em.ticks, 'last_error': em.last_error})
            if method == 'GET' and cmd == 'availability' and len(parts) == 2:
                hist = em.availability_history(parts[1], q.get('namespace'))
                return self._send(200, {'deployment': parts[1], 'samples': [list(s) for s in hist],
                                        'min_available': min((s[1] for s in hist), default=None)})
            if method == 'GET' and cmd == 'summary':
                return self._send(200, em.summary())
            if method == 'POST' and cmd == 'reset':
                em.reset()
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'crashloop':
                em.set_crashloop(body['target'], body.get('on', True), body.get('log_lines'))
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'unready':
                em.set_unready(body['target'], body.get('on', True), body.get('container'))
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'fail_new_pods':
                em.fail_new_pods(body['deployment'], body.get('on', True), body.get('namespace'))
                if 'progress_deadline_seconds' in body:
                    em.set_progress_deadline(body['progress_deadline_seconds'])
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'progress_deadline':
                em.set_progress_deadline(body.get('seconds'))
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'logs':
                if body.get('previous'):
                    em.set_previous_log(body['target'], body.get('lines') or [], body.get('container'),
                                        body.get('namespace'))
                else:
                    em.append_log(body['target'], body.get('lines') or [], body.get('container'),
                                  body.get('namespace'))
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'hang':
                em.set_hang(body.get('path'), body.get('on', True), body.get('methods'))
                return self._send(200, {'ok': True, 'hung': em.hung})
            if method == 'POST' and cmd == 'phase':
                em.set_pod_phase(body['target'], body['phase'], body.get('namespace'))
                return self._send(200, {'ok': True})
            if method == 'POST' and cmd == 'clear_history':
                em.clear_history(body.get('deployment'), body.get('namespace'))
                return self._send(200, {'ok': True})
        except KeyError as exc:
            return self._send(400, {'ok': False, 'error': 'missing or unknown: %s' % exc})
        self._send(404, {'ok': False, 'error': 'unknown control endpoint %s %s' % (method, path)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    ssl_context = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:  # the handshake happens in the handler thread, on the first read
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ValueError)):  # TLS refusals, resets: quiet
            ThreadingHTTPServer.handle_error(self, request, client_address)


def make_server(emulator, host='127.0.0.1', port=0, tls=None):
    """``tls``: {'cert', 'key'} paths (tls.make_certificates) to serve HTTPS."""
    handler = type('BoundHandler', (Handler,), {'emulator': emulator})
    server = _Server((host, port), handler)
    if tls:
        server.ssl_context = tlsutil.server_context(tls)
    server.exec_sessions = set()  # live pod exec sessions (podexec.py), killed on stop
    return server


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: {url}
    {trust}
users:
- name: {context}
  user:
    token: {token}
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
    namespace: {namespace}
current-context: {context}
preferences: {{}}
"""


def write_kubeconfig(path, url, context='quickbite-emulator', namespace='quickbite', token=None, ca=None):
    """``ca``: path of the CA certificate to trust (else ``insecure-skip-tls-verify``)."""
    path = os.path.expanduser(str(path))
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + '.tmp%d' % os.getpid()
    with open(tmp, 'w') as fh:
        fh.write(KUBECONFIG.format(url=url, context=context, namespace=namespace,
                                   token=token or 'emulator-dummy-token',
                                   trust='certificate-authority: %s' % ca if ca else 'insecure-skip-tls-verify: true'))
    os.replace(tmp, path)  # atomic: a waiting test never reads half a file
    return path


class EmulatorThread(object):
    """Runs the emulator's HTTP server in a background thread on 127.0.0.1
    (a free port unless ``port`` is given) plus its controller thread.

    ``with EmulatorThread(secrets={...}, pod_start_delay=0.2) as k8s:``
    gives ``k8s.url``, ``k8s.port``, ``k8s.emulator`` (fault injection) and
    ``k8s.write_kubeconfig(path)``.  Keyword arguments go to ``Emulator``.
    """

    def __init__(self, host='127.0.0.1', port=0, tls=None, **options):
        self.emulator = Emulator(**options)
        self.host, self._port = host, port
        self.tls = tls      # {'ca', 'cert', 'key'} (tls.make_certificates): HTTPS
        self._server = None
        self._thread = None

    def start(self):
        self._server = make_server(self.emulator, self.host, self._port, self.tls)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.1},
                                        name='k8s-emulator-http', daemon=True)
        self._thread.start()
        self.emulator.start()
        return self

    def stop(self):
        self.emulator.stop()
        if self._server is not None:
            for session in list(self._server.exec_sessions):
                session.kill()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return '%s://%s:%d' % ('https' if self.tls else 'http', self.host, self.port)

    def write_kubeconfig(self, path, context='quickbite-emulator', namespace='quickbite', token=None):
        """A kubeconfig for this server (the admin token unless ``token``; the CA when serving TLS)."""
        return write_kubeconfig(path, self.url, context, namespace, token or self.emulator.token,
                                self.tls['ca'] if self.tls else None)

    def api_client(self, token=None):
        """A ``kubernetes.client.ApiClient`` for this server (imports the client lazily)."""
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = self.url
        cfg.verify_ssl = bool(self.tls)
        if self.tls:
            cfg.ssl_ca_cert = self.tls['ca']
        cfg.api_key = {'authorization': 'Bearer ' + (token or self.emulator.token or 'emulator-dummy-token')}
        return client.ApiClient(cfg)


def _load_objects(path):
    with open(path) as fh:
        text = fh.read()
    try:
        data = json.loads(text)
    except ValueError:
        import yaml
        data = [d for d in yaml.safe_load_all(text) if d]
        if len(data) == 1 and isinstance(data[0], list):
            data = data[0]
    data = data if isinstance(data, list) else [data]
    # A v1 List (deploy/k8s-rbac.yml) holds its objects in items.
    return [item for doc in data for item in (doc.get('items') or [] if doc.get('kind') == 'List' else [doc])]


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.k8s_emulator',
                                     description='Kubernetes API emulator for the quickbite.ops tests')
    sub = parser.add_subparsers(dest='command', required=True)
    serve = sub.add_parser('serve', help='run in the foreground until SIGTERM/SIGINT')
    serve.add_argument('--host', default='127.0.0.1')
    serve.add_argument('--port', type=int, default=0, help='0 picks a free port (printed, and in the kubeconfig)')
    serve.add_argument('--kubeconfig', help='written once the server listens (atomically)')
    serve.add_argument('--context', default='quickbite-emulator')
    serve.add_argument('--namespace', default='quickbite')
    serve.add_argument('--secret', action='append', default=[], metavar='KEY=VALUE',
                       help='seed value of a key of Secret quickbite-secrets (repeatable)')
    serve.add_argument('--pod-start-delay', type=float, default=0.2)
    serve.add_argument('--tick', type=float, default=0.05)
    serve.add_argument('--crash-interval', type=float, default=0.5)
    serve.add_argument('--pod-terminate-delay', type=float, default=0.0)
    serve.add_argument('--progress-deadline', type=float, default=None,
                       help='override every Deployment progressDeadlineSeconds (seconds)')
    serve.add_argument('--token', default=None, help='require this bearer token (default: accept any)')
    serve.add_argument('--tls-dir', default=None,
                       help='serve HTTPS with a CA and server certificate created in this directory (ca.crt)')
    serve.add_argument('--statefulset', action='append', default=[], metavar='WORKLOAD',
                       help='seed this workload (postgres, redis) as a StatefulSet (repeatable)')
    serve.add_argument('--sidecar', action='append', default=[], metavar='WORKLOAD',
                       help='add the log-shipper sidecar container to this seed workload (repeatable)')
    serve.add_argument('--service-account', action='append', default=[], metavar='NAME=TOKEN',
                       help='a bearer token for ServiceAccount NAME (repeatable)')
    serve.add_argument('--rbac', metavar='FILE', default=None,
                       help='enforce RBAC; FILE (JSON or YAML list, or a v1 List such as deploy/k8s-rbac.yml) holds '
                            'Role/RoleBinding/ClusterRole objects (ServiceAccounts in it are left to --service-account)')
    serve.add_argument('--kubeconfig-token', default=None, metavar='TOKEN',
                       help='the token the --kubeconfig file carries (default: the admin token), e.g. a '
                            '--service-account token bound by --rbac')
    serve.add_argument('--exec-backend', action='append', default=[], metavar='TARGET=JSON_ARGV',
                       help='pod exec in TARGET (pod, Deployment or app label) runs this argv prefix plus the '
                            'command on this host, e.g. postgres=\'["docker","exec","-i","pg"]\' (repeatable)')
    args = parser.parse_args(argv)
    secrets = dict(item.split('=', 1) for item in args.secret)
    backends = dict((target, json.loads(argv)) for target, argv in (item.split('=', 1) for item in args.exec_backend))
    if args.host not in ('127.0.0.1', 'localhost', '::1') and not args.host.startswith('127.'):
        parser.error('the emulator only binds to loopback addresses')
    tls = tlsutil.make_certificates(args.tls_dir) if args.tls_dir else None
    rbac_objects = [o for o in _load_objects(args.rbac) if o.get('kind') != 'ServiceAccount'] if args.rbac else ()
    thread = EmulatorThread(host=args.host, port=args.port, tls=tls, secrets=secrets, namespace=args.namespace,
                            pod_start_delay=args.pod_start_delay, tick=args.tick,
                            crash_interval=args.crash_interval, pod_terminate_delay=args.pod_terminate_delay,
                            progress_deadline_seconds=args.progress_deadline, token=args.token,
                            exec_backends=backends, statefulsets=args.statefulset, sidecars=args.sidecar,
                            service_account_tokens=dict(item.split('=', 1) for item in args.service_account),
                            rbac=bool(args.rbac), rbac_objects=rbac_objects)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    thread.start()
    try:
        if args.kubeconfig:
            thread.write_kubeconfig(args.kubeconfig, args.context, args.namespace, token=args.kubeconfig_token)
        print('k8s-emulator listening on %s%s' % (
            thread.url, ' (kubeconfig %s)' % args.kubeconfig if args.kubeconfig else ''), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        thread.stop()
    return 0
