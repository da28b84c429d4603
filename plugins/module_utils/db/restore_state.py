# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a restore remembers while it runs, so a run killed at any point (even
SIGKILL) can be finished or put back by the next one: the phase, the writers
it stopped with their replica counts (recorded before each stop), the
pre-restore backup, and the databases it created. Kept where rotations keep
theirs (the adapter's store: ``<project_dir>/.quickbite-ops/`` on Compose, the
quickbite-ops-state Secret on Kubernetes), saved before each step it covers.

Phases, in order:

- ``started``: nothing changed yet;
- ``writers stopped``: the writers are down, the database untouched;
- ``loading``: (replace) the database is dropped and being loaded;
- ``loaded``: (replace) the restored database is in place and checked;
- ``loading new``: (swap) the new database is created and being loaded;
- ``loaded new``: (swap) the new database is loaded and checked;
- ``swapping``: (swap) renames under way;
- ``swapped``: (swap) the restored database carries the live name."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import time

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint

# Phases after which the restored database is in place: a rerun finishes.
DONE = ('loaded', 'swapped')


def state_key(dbname):
    """The store key (and lock name) for restores of ``dbname``: readable when
    the name is, a fingerprint otherwise (Secret keys and ConfigMap names
    accept few characters)."""
    if re.match(r'^[a-z0-9_]{1,40}$', dbname):
        return 'restore-%s' % dbname
    return 'restore-%s' % fingerprint(dbname)


class RestoreState(object):
    def __init__(self, store, dbname):
        self.store = store
        self.key = state_key(dbname)
        self.data = None

    def load(self):
        self.data = self.store.load(self.key)
        return self.data

    def begin(self, **fields):
        self.data = dict(fields, phase='started', since=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                         writers=[], created=[])
        self.store.save(self.key, self.data)

    def save(self, phase=None, **fields):
        if phase:
            self.data['phase'] = phase
        self.data.update(fields)
        self.store.save(self.key, self.data)

    @property
    def phase(self):
        return self.data['phase'] if self.data else None

    def clear(self):
        self.store.delete(self.key)
        self.data = None
