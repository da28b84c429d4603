# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API by path, JSON in and JSON out, as kubernetes.core's
dynamic client asks it, through the library's ApiClient: its kubeconfig,
TLS, token refresh, proxies, retries and patch content types stay the
library's business.

Why not the generated CoreV1Api/AppsV1Api: in kubernetes 37 their modules
build some 300 pydantic models and wrap 400 methods when imported, about one
CPU-second in every module run, for the few dozen fields the adapter reads.
The methods here keep the generated names and argument order (name,
namespace, body; query parameters as keywords), and what they return reads
like the generated models: snake_case attributes, None for what the object
does not carry, times as datetimes, maps (labels, data...) as dicts."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
import re

from ansible_collections.quickbite.ops.plugins.module_utils._time import epoch

try:
    from kubernetes.client.rest import ApiException
except ImportError:  # _k8s_client reports the missing library
    ApiException = None

# (HTTP method, path) of every operation the adapter uses, by the generated client's name.
_CORE, _APPS = '/api/v1/namespaces/{namespace}/', '/apis/apps/v1/namespaces/{namespace}/'
_COORD, _NET = '/apis/coordination.k8s.io/v1/namespaces/{namespace}/', '/apis/networking.k8s.io/v1/namespaces/{namespace}/'
OPERATIONS = {
    'list_namespaced_pod': ('GET', _CORE + 'pods'),
    'read_namespaced_pod': ('GET', _CORE + 'pods/{name}'),
    'delete_namespaced_pod': ('DELETE', _CORE + 'pods/{name}'),
    'read_namespaced_pod_log': ('GET', _CORE + 'pods/{name}/log'),
    'list_namespaced_event': ('GET', _CORE + 'events'),
    'list_namespaced_service': ('GET', _CORE + 'services'),
    'read_namespaced_config_map': ('GET', _CORE + 'configmaps/{name}'),
    'read_namespaced_secret': ('GET', _CORE + 'secrets/{name}'),
    'create_namespaced_secret': ('POST', _CORE + 'secrets'),
    'patch_namespaced_secret': ('PATCH', _CORE + 'secrets/{name}'),
    'read_namespaced_deployment': ('GET', _APPS + 'deployments/{name}'),
    'patch_namespaced_deployment': ('PATCH', _APPS + 'deployments/{name}'),
    'patch_namespaced_deployment_scale': ('PATCH', _APPS + 'deployments/{name}/scale'),
    'read_namespaced_stateful_set': ('GET', _APPS + 'statefulsets/{name}'),
    'patch_namespaced_stateful_set': ('PATCH', _APPS + 'statefulsets/{name}'),
    'patch_namespaced_stateful_set_scale': ('PATCH', _APPS + 'statefulsets/{name}/scale'),
    'list_namespaced_replica_set': ('GET', _APPS + 'replicasets'),
    'list_namespaced_controller_revision': ('GET', _APPS + 'controllerrevisions'),
    'read_namespaced_controller_revision': ('GET', _APPS + 'controllerrevisions/{name}'),
    'read_namespaced_lease': ('GET', _COORD + 'leases/{name}'),
    'create_namespaced_lease': ('POST', _COORD + 'leases'),
    'replace_namespaced_lease': ('PUT', _COORD + 'leases/{name}'),
    'delete_namespaced_lease': ('DELETE', _COORD + 'leases/{name}'),
    'list_namespaced_ingress': ('GET', _NET + 'ingresses'),
    'read_namespaced_ingress': ('GET', _NET + 'ingresses/{name}'),
    'patch_namespaced_ingress': ('PATCH', _NET + 'ingresses/{name}'),
}
# The generated client's content type for a PATCH: its rest layer sends a dict
# body as a strategic merge patch and a list as a JSON patch, as kubectl does.
_PATCH = 'application/json-patch+json'

# Fields whose value is a map of free keys: dicts, as the models give them.
MAPS = frozenset(('labels', 'annotations', 'data', 'binaryData', 'stringData', 'limits', 'requests',
                  'nodeSelector', 'matchLabels', 'capacity', 'allocatable'))
# Fields of type Time or MicroTime: datetimes, as the models give them.
TIMES = frozenset(('creationTimestamp', 'deletionTimestamp', 'firstTimestamp', 'lastTimestamp', 'eventTime',
                   'startTime', 'startedAt', 'finishedAt', 'lastTransitionTime', 'lastUpdateTime',
                   'lastProbeTime', 'lastHeartbeatTime', 'acquireTime', 'renewTime'))


def _camel(name):
    head, _sep, rest = name.lstrip('_').partition('_')
    return head + ''.join(part[:1].upper() + part[1:] for part in rest.split('_') if part)


def _time(value):
    seconds = epoch(value)
    if seconds is None:
        return value
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)


class Selector(dict):
    """spec.selector: a LabelSelector (Deployment, StatefulSet) or a map
    (Service): the raw dict, with the LabelSelector's two attributes."""

    @property
    def match_labels(self):
        return self.get('matchLabels')

    @property
    def match_expressions(self):
        return self.get('matchExpressions')

    def to_dict(self):
        return dict(self)


def wrap(value, key=None):
    if isinstance(value, dict):
        if key in MAPS:
            return dict(value)
        if key == 'selector':
            return Selector(value)
        return K8sObject(value)
    if isinstance(value, list):
        return [wrap(item) for item in value]
    if key in TIMES and value:
        return _time(value)
    return value


class K8sObject(object):
    """One API object (or a part of one) as read: ``pod.status.pod_ip``
    reads ``status.podIP``."""

    __slots__ = ('_raw', '_cache')

    def __init__(self, raw):
        self._raw = raw
        self._cache = {}

    def __getattr__(self, name):
        if name.startswith('_'):  # dunders (copy, pickle) and the slots before __init__ set them
            raise AttributeError(name)
        cache = self._cache
        if name not in cache:
            key = _camel(name)
            if key not in self._raw:  # podIP, hostIP, clusterIP: initialisms the snake name hides
                squashed = name.replace('_', '').lower()
                key = next((k for k in self._raw if k.lower() == squashed), key)
            cache[name] = wrap(self._raw.get(key), key)
        return cache[name]

    def to_dict(self):
        """The object as the API server sent it (camelCase keys): what a body sends back."""
        return json.loads(json.dumps(self._raw))

    def __eq__(self, other):
        return isinstance(other, K8sObject) and other._raw == self._raw

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return 'K8sObject(%r)' % (self._raw,)


class RestApi(object):
    """The operations of OPERATIONS on one ApiClient, called as the generated
    client's methods are: ``api.read_namespaced_pod(name, namespace)``."""

    def __init__(self, api_client):
        self.api_client = api_client

    def __getattr__(self, name):
        if name not in OPERATIONS:
            raise AttributeError('%s is not an operation of the adapter\'s client' % name)
        method, path = OPERATIONS[name]

        def operation(*args, **kwargs):
            return self.request(method, path, args, kwargs, text=name.endswith('_pod_log'))
        operation.__name__ = name
        return operation

    def prepare(self, method, path, path_params, query, headers, body=None):
        """(url, headers, body, post params) of a request as the generated
        client builds it: path parameters quoted, the query encoded (None
        left out, booleans as true/false), the bearer token (refreshed when
        the kubeconfig says so). Pod exec opens its WebSocket on this too."""
        query = [(key, _query_value(value)) for key, value in query if value is not None]
        _method, url, headers, body, post = self.api_client.param_serialize(
            method, path, path_params=path_params, query_params=query, header_params=headers, body=body,
            auth_settings=['BearerToken'])
        return url, headers, body, post

    def request(self, method, path, args, kwargs, text=False):
        args = list(args)
        path_params = {}
        for param in re.findall(r'\{(\w+)\}', path)[::-1]:  # the generated order: name, then namespace
            value = kwargs.pop(param) if param in kwargs else (args.pop(0) if args else None)
            if value is None or value == '':
                # An empty name would address the collection: refused, as the generated client refuses it.
                raise ValueError('%s %s: %s is empty' % (method, path, param))
            path_params[param] = value
        body = kwargs.pop('body') if 'body' in kwargs else (args.pop(0) if args else None)
        if args:
            raise TypeError('%s %s: unexpected arguments %r' % (method, path, args))
        timeout = kwargs.pop('_request_timeout', None)
        query = [(_camel(key), value) for key, value in sorted(kwargs.items())]
        headers = {'Accept': 'text/plain, */*' if text else 'application/json'}
        if method == 'PATCH':
            headers['Content-Type'] = _PATCH
        elif body is not None:
            headers['Content-Type'] = 'application/json'
        url, headers, body, post = self.prepare(method, path, path_params, query, headers, body)
        response = self.api_client.call_api(method, url, header_params=headers, body=body, post_params=post,
                                            _request_timeout=timeout)
        data = (response.read() or b'').decode('utf-8', 'replace')
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=data, data=None)
        if text:
            return data
        return wrap(json.loads(data)) if data else None


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value
