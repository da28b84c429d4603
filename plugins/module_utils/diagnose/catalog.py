# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every diagnosis check, registered by importing its file: one import line
per check file (Ansible packs the module_utils a module imports, so each is
named here, never found at run time)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# pylint: disable=unused-import
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry  # noqa: F401
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import db_connection  # noqa: F401
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import webhook  # noqa: F401
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import websocket  # noqa: F401
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import blank_page  # noqa: F401
