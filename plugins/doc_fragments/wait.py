# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with options.wait_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  wait_timeout:
    description:
      - Seconds to wait until the services the module restarted, scaled, rolled back or started again are ready
        (every replica ready, the rollout complete).
    type: int
    default: 300
'''
