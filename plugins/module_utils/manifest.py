# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a repository manifest (``k8s/deploy.yaml``) in step with a change
made on the cluster: set one container's resources in one Deployment."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False


def set_container_resources(path, deployment, container, resources, check_mode=False):
    """Returns (changed, before). Comments and key order of other documents
    are not kept by the YAML round trip; the file is replaced atomically."""
    if not HAS_YAML:
        raise ConfigError('PyYAML is needed to edit %s' % path)
    if not os.path.isfile(path):
        raise ConfigError('manifest %s not found; set scale_manifest to the Deployment manifest or leave it empty' % path)
    with open(path) as handle:
        docs = list(yaml.safe_load_all(handle))
    target = None
    for doc in docs:
        if isinstance(doc, dict) and doc.get('kind') == 'Deployment' and \
                (doc.get('metadata') or {}).get('name') == deployment:
            for item in doc['spec']['template']['spec']['containers']:
                if item.get('name') == container:
                    target = item
    if target is None:
        raise ConfigError('%s has no Deployment %s with a container %s; check scale_manifest' % (path, deployment, container))
    before = target.get('resources') or {}
    after = dict(before)
    for kind, values in resources.items():
        merged = dict(before.get(kind) or {})
        merged.update(values or {})
        after[kind] = merged
    if after == before:
        return False, before
    if not check_mode:
        target['resources'] = after
        text = yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)
        # Mode kept; the directory checked and the file replaced by rename (_safefs).
        _safefs.write_atomic(path, text, 'scale_manifest (its directory)', stat.S_IMODE(os.stat(path).st_mode),
                             create_dir=False)
    return True, before
