# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ingress objects (networking.k8s.io/v1) of the namespace: listed with
their annotations and routes, annotated by a merge patch that leaves every
other annotation and the rules as they are. The KubernetesAdapter's
ingresses()/set_ingress_annotations() (base.Adapter)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def _paths(spec):
    paths = []
    for rule in (spec.rules or []) if spec else []:
        for path in (rule.http.paths or []) if rule.http else []:
            backend = path.backend.service if path.backend else None
            port = None
            if backend is not None and backend.port is not None:
                port = backend.port.number or backend.port.name
            paths.append(dict(host=rule.host or '*', path=path.path or '/', service=backend.name if backend else None,
                              port=port))
    return paths


def list_ingresses(client, namespace):
    found = client.call('listing ingresses', client.networking.list_namespaced_ingress, namespace)
    return sorted((dict(name=ing.metadata.name, annotations=dict(ing.metadata.annotations or {}),
                        paths=_paths(ing.spec)) for ing in found.items), key=lambda i: i['name'])


def set_annotations(client, namespace, name, annotations):
    """Merge ``annotations`` into Ingress ``name``; returns its annotations before."""
    before = client.call('reading ingress %s' % name, client.networking.read_namespaced_ingress, name, namespace)
    client.call('annotating ingress %s' % name, client.networking.patch_namespaced_ingress, name, namespace,
                {'metadata': {'annotations': dict((k, str(v)) for k, v in annotations.items())}})
    return dict(before.metadata.annotations or {})
