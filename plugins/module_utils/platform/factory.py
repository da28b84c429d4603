# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place that looks at ``platform``."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib


def get_adapter(module):
    # Imports stay inside the branches: the kubernetes library alone takes
    # about 0.4 s to import, which a Compose run should not pay.
    params = module.params
    if params['platform'] == 'compose':
        from ansible_collections.quickbite.ops.plugins.module_utils.platform.compose import ComposeAdapter
        return ComposeAdapter(module, params)
    from ansible_collections.quickbite.ops.plugins.module_utils.platform import _k8s_client
    if not _k8s_client.HAS_K8S:
        module.fail_json(msg=missing_required_lib('kubernetes'), exception=_k8s_client.K8S_IMPORT_ERROR)
    from ansible_collections.quickbite.ops.plugins.module_utils.platform.kubernetes import KubernetesAdapter
    return KubernetesAdapter(module, params)
