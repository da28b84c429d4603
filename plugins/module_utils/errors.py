# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by the platform and service layers.

Modules catch QuickbiteError once and turn it into fail_json, so every message
must already say what failed, why, and what to do about it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class QuickbiteError(Exception):
    """Base class; ``details`` is merged into the failed result."""

    def __init__(self, msg, **details):
        super(QuickbiteError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ConfigError(QuickbiteError):
    """Bad input: names the variable and the fix."""


class PlatformError(QuickbiteError):
    """The Compose CLI or the Kubernetes API refused or failed."""


class NotFoundError(PlatformError):
    """A service, pod, revision or key that does not exist."""


class TimeoutError_(QuickbiteError):
    """A wait ran past its deadline; details carry the last state seen."""


class VerificationError(QuickbiteError):
    """The procedure ran but its result did not verify."""


class Changes(object):
    """Around the steps of a procedure that change things: once ``made`` is
    set, a QuickbiteError that leaves the block says changed=true (a wait that
    times out after a restart still restarted something)."""

    def __init__(self):
        self.made = False

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, trace):
        if self.made and isinstance(exc, QuickbiteError):
            exc.details['changed'] = True
        return False
