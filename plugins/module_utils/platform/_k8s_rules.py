# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alerting rules on Kubernetes: a PrometheusRule (monitoring.coreos.com/v1)
in the namespace, which the Prometheus Operator loads into Prometheus. The
KubernetesAdapter's read_alert_rules()/write_alert_rules() (base.Adapter)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.errors import NotFoundError

GROUP, VERSION, PLURAL, KIND = 'monitoring.coreos.com', 'v1', 'prometheusrules', 'PrometheusRule'


def _api(client):
    from kubernetes import client as k8s_client
    return k8s_client.CustomObjectsApi(client.api_client)


def read(client, namespace, name):
    """spec.groups of PrometheusRule ``name``, or None when there is none."""
    try:
        obj = client.call('reading PrometheusRule %s' % name, _api(client).get_namespaced_custom_object,
                          GROUP, VERSION, namespace, PLURAL, name)
    except NotFoundError:
        return None
    return (obj.get('spec') or {}).get('groups')


def write(client, namespace, name, groups, labels):
    """Create PrometheusRule ``name`` or replace its spec.groups (a merge
    patch replaces the list whole); ``labels`` are what the Operator's
    ruleSelector matches."""
    body = {'apiVersion': '%s/%s' % (GROUP, VERSION), 'kind': KIND,
            'metadata': {'name': name, 'namespace': namespace, 'labels': dict(labels)},
            'spec': {'groups': groups}}
    api = _api(client)
    if read(client, namespace, name) is None:
        client.call('creating PrometheusRule %s' % name, api.create_namespaced_custom_object,
                    GROUP, VERSION, namespace, PLURAL, body)
    else:
        client.call('patching PrometheusRule %s' % name, api.patch_namespaced_custom_object,
                    GROUP, VERSION, namespace, PLURAL, name, {'metadata': {'labels': dict(labels)}, 'spec': body['spec']})
