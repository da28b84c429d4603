# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backend's database address as its environment gives it (Spring's
SPRING_DATASOURCE_URL first, else DB_HOST/DB_PORT/DB_NAME), the secrets of
that environment shown by fingerprint only, and the backend's last end and
log lines sorted into the runbook's causes."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint

DEFAULT_PORT = 5432
DB_KEYS = re.compile(r'^(SPRING_DATASOURCE_\w+|DB_\w+|PG\w+|DATABASE_URL)$')
_JDBC = re.compile(r'^jdbc:postgresql://([^/?]*)(?:/([^?]*))?', re.I)


def _host_port(text):
    """``host[:port]`` or ``[v6]:port`` -> (host, port or None)."""
    if text.startswith('['):
        host, dummy, rest = text[1:].partition(']')
        return host, int(rest[1:]) if rest.startswith(':') and rest[1:].isdigit() else None
    host, sep, port = text.rpartition(':')
    if sep and port.isdigit():
        return host, int(port)
    return text, None


def address(env):
    """{host, port, database, user, password_fingerprint, from: the keys read}
    of the database the backend connects to, or None when its environment
    names none."""
    url = env.get('SPRING_DATASOURCE_URL')
    if url:
        match = _JDBC.match(url)
        if match:
            host, port = _host_port(match.group(1).split(',')[0])
            password = env.get('SPRING_DATASOURCE_PASSWORD', env.get('DB_PASSWORD'))
            return dict(host=host, port=port or DEFAULT_PORT, database=match.group(2) or None,
                        user=env.get('SPRING_DATASOURCE_USERNAME', env.get('DB_USER')),
                        password_fingerprint=fingerprint(password), keys=['SPRING_DATASOURCE_URL'])
    if 'DB_HOST' not in env and 'DB_PORT' not in env:
        return None
    port = env.get('DB_PORT') or str(DEFAULT_PORT)
    return dict(host=env.get('DB_HOST') or '127.0.0.1', port=int(port) if port.isdigit() else port,
                database=env.get('DB_NAME'), user=env.get('DB_USER'),
                password_fingerprint=fingerprint(env.get('DB_PASSWORD')), keys=['DB_HOST', 'DB_PORT'])


def shown(env, origins, patterns):
    """The database keys of ``env`` for the evidence: a secret as its fingerprint."""
    found = {}
    for key in sorted(k for k in env if DB_KEYS.match(k)):
        value = env[key]
        if _mask.is_secret_key(key, patterns):
            value = '%s (fingerprint %s)' % (_mask.MASK, fingerprint(value)) if value else ''
        found[key] = dict(value=value, origin=origins.get(key))
    return found


# The causes the runbook's section names, in the order a log shows them last.
CAUSES = (
    ('flyway', re.compile(r'FlywayValidateException|FlywayMigrateException|Detected failed migration|'
                          r'Migration \S+ failed|migration checksum mismatch', re.I),
     'failed Flyway migration'),
    ('password', re.compile(r'password authentication failed', re.I), 'password authentication failed'),
    ('database', re.compile(r'database "[^"]*" does not exist', re.I), 'unknown database'),
    ('host', re.compile(r'could not translate host name|Name or service not known|UnknownHostException', re.I),
     'unknown database host'),
    ('refused', re.compile(r'connection refused|Connection to \S+ refused|refused or failed', re.I), 'connection refused'),
)


def classify(lines):
    """(cause, words, line) of the last line of ``lines`` that names one of
    the causes; (None, None, None) when none does."""
    for line in reversed(lines):
        for cause, pattern, words in CAUSES:
            if pattern.search(line):
                return cause, words, line.strip()
    return None, None, None
