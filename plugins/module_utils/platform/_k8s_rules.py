# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alerting on Kubernetes as the Prometheus Operator's custom resources in the
namespace: the rules as a PrometheusRule (monitoring.coreos.com/v1), which the
Operator loads into Prometheus, and the routing as an AlertmanagerConfig
(monitoring.coreos.com/v1alpha1), which it merges into Alertmanager's
configuration. The KubernetesAdapter's read_alert_rules()/write_alert_rules()
and read_alert_routing()/write_alert_routing() (base.Adapter)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError

GROUP, VERSION, PLURAL, KIND = 'monitoring.coreos.com', 'v1', 'prometheusrules', 'PrometheusRule'
# (version, plural, kind) of each object.
RULES = (VERSION, PLURAL, KIND)
ROUTING = ('v1alpha1', 'alertmanagerconfigs', 'AlertmanagerConfig')


def _api(client):
    from kubernetes import client as k8s_client
    return k8s_client.CustomObjectsApi(client.api_client)


def read_object(client, namespace, name, what=RULES):
    """The spec of the custom resource ``name`` of kind ``what``, or None when there is none."""
    version, plural, kind = what
    try:
        obj = client.call('reading %s %s' % (kind, name), _api(client).get_namespaced_custom_object,
                          GROUP, version, namespace, plural, name)
    except NotFoundError:
        return None
    return obj.get('spec') or {}


def write_object(client, namespace, name, spec, labels, what=RULES):
    """Create the custom resource ``name`` or replace its spec (a merge patch
    replaces lists whole; keys gone from ``spec`` are set to null, so removed);
    ``labels`` are what the Operator's selectors match."""
    version, plural, kind = what
    body = {'apiVersion': '%s/%s' % (GROUP, version), 'kind': kind,
            'metadata': {'name': name, 'namespace': namespace, 'labels': dict(labels)}, 'spec': spec}
    api = _api(client)
    before = read_object(client, namespace, name, what)
    if before is None:
        client.call('creating %s %s' % (kind, name), api.create_namespaced_custom_object,
                    GROUP, version, namespace, plural, body)
    else:
        patch = dict(spec)
        patch.update((key, None) for key in before if key not in spec)
        client.call('patching %s %s' % (kind, name), api.patch_namespaced_custom_object,
                    GROUP, version, namespace, plural, name, {'metadata': {'labels': dict(labels)}, 'spec': patch})


def read(client, namespace, name):
    """spec.groups of PrometheusRule ``name``, or None when there is none."""
    spec = read_object(client, namespace, name, RULES)
    return None if spec is None else spec.get('groups')


def write(client, namespace, name, groups, labels):
    """Create PrometheusRule ``name`` or replace its spec.groups."""
    write_object(client, namespace, name, {'groups': groups}, labels, RULES)
