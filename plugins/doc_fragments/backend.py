# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with options.backend_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  backend_url:
    description:
      - Base URL of the backend as reached from the host that runs the module, for the health check
        (C(/actuator/health) is appended) and the module's probes.
      - Roles set it from the inventory variable C(quickbite_backend_url).
    type: str
    default: http://127.0.0.1:8080
  validate_certs:
    description:
      - Verify TLS certificates of O(backend_url) (and, where the module checks the frontend, of the frontend's URL).
      - Roles set it from the inventory variable C(quickbite_validate_certs).
    type: bool
    default: true
'''
