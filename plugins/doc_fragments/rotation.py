# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Paired with rotation.procedures.rotation_argument_spec(); change both together.
    DOCUMENTATION = r'''
options:
  audit_log:
    description:
      - File the audit line is appended to, on the host that runs the module. Its directory (created 0750 when
        missing) must belong to the running user and be writable by no one else, and the file must not be a symlink
        or someone else's; otherwise the rotation is refused before anything changes.
    type: path
    default: /var/log/quickbite-ops/rotation.log
  allow_ephemeral:
    description:
      - Write to O(audit_log) even when this run is in an AWX or ansible-runner execution environment (C(/runner), C(AWX_*))
        and the path is not on a mounted volume, so it would be lost with the job. Refused otherwise, naming the
        variable to set.
    type: bool
    default: false
  operator:
    description:
      - Who runs the rotation, for the audit line (the AWX user, for instance).
    type: str
    default: unknown
  abandon_pending:
    description:
      - "Drop an interrupted rotation instead of rotating: the old value is put back (the configuration's bytes as
        they were, and on the database the old password), the backend restarted and tested, as after a failed test.
        No change when no rotation is pending. Sets no new value."
      - A rotation resumed with a different new value is refused and names this option.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Says what would rotate (with the fingerprint of the current value) and the steps a run would take
      (RV(actions)), and changes nothing; C(changed) and the steps come from the same decision as a real run (no
      change for the value already in force), and what a run would refuse is refused.
  diff_mode:
    support: none
    description: Secrets have no diff; fingerprints are returned instead.
'''
