# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with options.database_admin_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  admin_user:
    description:
      - Superuser role for the administrative statements. It creates, drops and renames databases and runs restores
        (as a superuser, the archive's ownership and privileges come back as they were), or changes the password of
        O(db_user).
    type: str
    default: postgres
  admin_password:
    description:
      - Password of O(admin_user) (vaulted); C(POSTGRES_PASSWORD) from the env file or Secret when omitted.
    type: str
  admin_db:
    description:
      - Database the admin connection opens.
    type: str
    default: postgres
'''
