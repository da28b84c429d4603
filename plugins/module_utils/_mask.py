# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of the deployment's secrets in text the procedures collect
(container and pod logs): every value of a configuration key whose name
matches one of the secret-key patterns becomes ``********``, wherever a
service printed it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from fnmatch import fnmatchcase

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, QuickbiteError

MASK = '********'
# JWT_SECRET, JWT_SECRET_PREVIOUS, PAYMENT_WEBHOOK_SECRET, DB_PASSWORD,
# POSTGRES_PASSWORD, REDIS_PASSWORD, and any *TOKEN* or *KEY* key.
DEFAULT_SECRET_KEYS = ['*SECRET*', '*PASSWORD*', '*TOKEN*', '*KEY*']
# Shorter values are not masked: "1" or "on" would hide unrelated text (and,
# as no_log values, blank every matching character of the task's output).
MIN_LENGTH = 4


def is_secret_key(name, patterns):
    """Case-insensitive shell-style match of a key name."""
    return any(fnmatchcase(name.upper(), pattern.upper()) for pattern in patterns)


class Masker(object):
    """Replaces each value in text, longest first (a value that contains
    another is masked whole)."""

    def __init__(self, values=()):
        self.values = sorted(set(v for v in values if v and len(v) >= MIN_LENGTH), key=len, reverse=True)

    def text(self, text):
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def lines(self, lines):
        if not self.values:
            return list(lines)
        return [self.text(line) for line in lines]


def from_adapter(adapter, patterns, variable):
    """A Masker for the values of the adapter's configuration keys (env
    file or Secret) that match ``patterns``; ``variable`` names the option
    in errors. An empty ``patterns`` masks nothing."""
    if not patterns:
        return Masker()
    try:
        items = adapter.config_items()
    except QuickbiteError as exc:
        raise ConfigError('cannot read the configuration of %s to mask its secrets in the logs: %s; fix that, or set '
                          '%s to [] to collect without masking' % (adapter.describe(), exc.msg, variable))
    return Masker(value for key, value in items.items() if is_secret_key(key, patterns))
