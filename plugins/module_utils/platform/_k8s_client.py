# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin client over the ``kubernetes`` Python library: loads the kubeconfig
(or in-cluster config) and turns ApiException into typed errors."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import re
import time
import traceback

from ansible_collections.quickbite.ops.plugins.module_utils.errors import (
    ConfigError, NotFoundError, PlatformError)
from ansible_collections.quickbite.ops.plugins.module_utils.platform._k8s_rest import RestApi

try:
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.client.rest import ApiException
    import urllib3
    HAS_K8S = True
    K8S_IMPORT_ERROR = None
except ImportError:
    HAS_K8S = False
    K8S_IMPORT_ERROR = traceback.format_exc()

    class ApiException(Exception):
        """Never raised: stands in so except clauses stay valid without the library."""


# Option name -> the kubernetes client's Configuration attribute, as
# kubernetes.core's AUTH_ARG_MAP; each option falls back to the environment
# variable K8S_AUTH_<OPTION> or K8S_AUTH_<ATTRIBUTE> (what AWX's Kubernetes
# credential injects: K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_SSL_CA_CERT,
# K8S_AUTH_VERIFY_SSL).
AUTH_OPTIONS = (('kubeconfig', 'kubeconfig'), ('context', 'context'), ('host', 'host'), ('api_key', 'api_key'),
                ('ca_cert', 'ssl_ca_cert'), ('validate_certs', 'verify_ssl'))


def auth_settings(params, environ=None):
    """kubernetes.core's _create_auth_spec: the option when set, else its
    environment variable (booleans: anything but 0/false/no is true)."""
    environ = os.environ if environ is None else environ
    auth = {}
    for option, attribute in AUTH_OPTIONS:
        value = params.get(option)
        if value is None:
            value = environ.get('K8S_AUTH_%s' % option.upper()) or environ.get('K8S_AUTH_%s' % attribute.upper())
            if value is not None and option == 'validate_certs':
                value = value.lower() not in ('0', 'false', 'no')
        if value is not None:
            auth[option] = value
    return auth


def _load_incluster(configuration):
    """The in-cluster loader on the service-account files the library names
    (read at call time, so a test can point them at a directory it wrote)."""
    from kubernetes.config import incluster_config
    incluster_config.InClusterConfigLoader(
        token_filename=incluster_config.SERVICE_TOKEN_FILENAME,
        cert_filename=incluster_config.SERVICE_CERT_FILENAME).load_and_set(configuration)


def _describe(auth):
    if auth.get('host') and auth.get('api_key'):
        return 'host %s with a token' % auth['host']
    if auth.get('kubeconfig') or auth.get('context'):
        return 'kubeconfig %s (context %s)' % (auth.get('kubeconfig') or 'default', auth.get('context') or 'current')
    return 'in-cluster service account, else the default kubeconfig'


def build_api_client(kubeconfig=None, context=None, environ=None, **options):
    """An ApiClient configured as kubernetes.core configures one: host and
    api_key given (option or K8S_AUTH_*) need nothing else; else a kubeconfig
    or context given loads that kubeconfig; else the in-cluster service
    account, else the default kubeconfig (KUBECONFIG, ~/.kube/config). Then
    host, api_key, ca_cert and validate_certs given override what was loaded."""
    params = dict(options, kubeconfig=kubeconfig, context=context)
    auth = auth_settings(params, environ)
    if auth.get('host'):
        auth['host'] = auth['host'].rstrip('/')
    configuration = k8s_client.Configuration()
    try:
        if auth.get('host') and auth.get('api_key'):
            pass
        elif auth.get('kubeconfig') or auth.get('context'):
            k8s_config.load_kube_config(config_file=os.path.expanduser(auth['kubeconfig']) if auth.get('kubeconfig')
                                        else None, context=auth.get('context'), client_configuration=configuration)
        else:
            try:
                _load_incluster(configuration)
            except k8s_config.ConfigException:
                k8s_config.load_kube_config(client_configuration=configuration)
    except Exception as exc:  # the library raises several unrelated types here
        raise ConfigError('unable to load Kubernetes configuration from %s: %s; set quickbite_k8s_kubeconfig '
                          '(and quickbite_k8s_context), or quickbite_k8s_host with quickbite_k8s_api_key and '
                          'quickbite_k8s_ca_cert (or the K8S_AUTH_* environment of an AWX Kubernetes credential)'
                          % (_describe(auth), exc))
    for option, attribute in AUTH_OPTIONS[2:]:
        if option in auth:
            value = auth[option]
            if option == 'api_key':
                configuration.api_key = {'authorization': 'Bearer %s' % value}
                configuration.api_key_prefix = {}
                # The kubeconfig loader's hook would put its user's token back before each request.
                configuration.refresh_api_key_hook = None
            else:
                setattr(configuration, attribute, os.path.expanduser(value) if option == 'ca_cert' else value)
    return k8s_client.ApiClient(configuration)


def selector_string(label_selector):
    """matchLabels/matchExpressions (client model or dict) to the query form."""
    if label_selector is None:
        return ''
    if not isinstance(label_selector, dict):
        label_selector = label_selector.to_dict()
    parts = ['%s=%s' % kv for kv in sorted((label_selector.get('match_labels') or
                                            label_selector.get('matchLabels') or {}).items())]
    for expr in (label_selector.get('match_expressions') or label_selector.get('matchExpressions') or []):
        op = expr['operator']
        if op in ('In', 'NotIn'):
            parts.append('%s %s (%s)' % (expr['key'], op.lower(),
                                         ','.join(expr.get('values') or [])))
        elif op == 'Exists':
            parts.append(expr['key'])
        elif op == 'DoesNotExist':
            parts.append('!' + expr['key'])
    return ','.join(parts)


class K8sClient(object):

    def __init__(self, kubeconfig=None, context=None, namespace='quickbite', **auth):
        self.namespace = namespace
        self.api_client = build_api_client(kubeconfig, context, **auth)
        # By path, not the generated API classes (_k8s_rest says why); one
        # object serves the core, apps, coordination and networking groups alike.
        self.core = self.apps = self.coordination = self.networking = RestApi(self.api_client)
        self.host = self.api_client.configuration.host
        # Seconds one API request may take (None: no limit), lowered to what
        # is left of a wait's deadline (within()); a hung API server is not
        # asked again for the same read (urllib3 would, 3 times).
        self.request_timeout = None
        self.deadline = None
        self.api_client.rest_client.pool_manager.connection_pool_kw['retries'] = urllib3.Retry(
            total=3, read=0, redirect=False)

    @contextlib.contextmanager
    def within(self, deadline):
        """Every request inside ends by ``deadline`` (epoch seconds) at the latest."""
        outer, self.deadline = self.deadline, deadline if self.deadline is None else min(deadline, self.deadline)
        try:
            yield
        finally:
            self.deadline = outer

    def _timeout(self):
        limits = [t for t in (self.request_timeout,
                              None if self.deadline is None else self.deadline - time.time()) if t is not None]
        return max(1.0, min(limits)) if limits else None

    def call(self, what, func, *args, **kwargs):
        timeout = kwargs.setdefault('_request_timeout', self._timeout())
        try:
            return func(*args, **kwargs)
        except ApiException as exc:
            status = getattr(exc, 'status', None)
            message = '%s in namespace %s: %s %s' % (what, self.namespace, status, getattr(exc, 'reason', exc))
            if status == 404:
                raise NotFoundError(message + ' (not found)')
            needs = forbidden(getattr(exc, 'body', None) or '') if status == 403 else None
            if needs:
                raise PlatformError('%s in namespace %s: %s' % (what, self.namespace, needs))
            if status in (401, 403):
                raise PlatformError(message + '; check the credentials and RBAC of the kubeconfig user')
            raise PlatformError(message)
        except Exception as exc:
            if timeout and _timed_out(exc):
                raise PlatformError('%s: the Kubernetes API at %s did not answer within %.0f s (the request timeout, '
                                    'bounded by the task\'s wait timeout); check the API server (kubectl get --raw '
                                    '/readyz) and run again' % (what, self.host, timeout))
            raise PlatformError('%s: cannot reach the Kubernetes API at %s: %s' % (what, self.host, exc))


RBAC_FILE = 'deploy/k8s-rbac.yml'
_FORBIDDEN_RE = re.compile(r'User \\?"([^"\\]+)\\?" cannot (\w+) resource \\?"([^"\\]+)\\?"'
                           r'(?: in API group \\?"([^"\\]*)\\?")?')


def forbidden(text):
    """``forbidden: needs <verb> on <resource>`` and the way forward, from
    the API server's 403 Status (None when it does not say what is missing)."""
    found = _FORBIDDEN_RE.search(text or '')
    if not found:
        return None
    user, verb, resource, group = found.groups()
    qualified = '%s.%s' % (resource, group) if group else resource
    return ('forbidden: needs %s on %s; user %s lacks it: apply the Role quickbite-ops of %s from the collection '
            '(kubectl apply -n <namespace> -f %s) and bind it to that user, or grant %s on %s'
            % (verb, qualified, user, RBAC_FILE, RBAC_FILE, verb, qualified))


def _timed_out(exc):
    """Whether urllib3 gave up waiting for an answer (directly or after its retries)."""
    reason = getattr(exc, 'reason', None)
    return isinstance(exc, urllib3.exceptions.TimeoutError) or isinstance(reason, urllib3.exceptions.TimeoutError)
