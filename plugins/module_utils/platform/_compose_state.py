# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection remembers on a Compose host, under
``<project_dir>/.quickbite-ops/``: the image each service ran before every
restart, recreate or rollback (``history.json``), and the image pins a rollback
writes as a Compose override file (``rollback.override.yml``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs

HISTORY_LIMIT = 20


class ComposeState(object):

    def __init__(self, project_dir):
        self.dir = os.path.join(project_dir, '.quickbite-ops')
        self.history_path = os.path.join(self.dir, 'history.json')
        self.override_path = os.path.join(self.dir, 'rollback.override.yml')

    def _write(self, path, text):
        """Through _safefs: the state directory made 0700 and checked, the file replaced, never followed."""
        _safefs.write_atomic(path, text, 'quickbite_compose_project_dir (its .quickbite-ops directory)')

    def history(self):
        try:
            with _safefs.open_nofollow(self.history_path, binary=False) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return {}

    def record(self, service, image, image_id, action):
        """Append unless the newest entry already holds this image."""
        data = self.history()
        entries = data.setdefault(service, [])
        entry = dict(time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), image=image,
                     image_id=image_id, action=action)
        if entries and entries[-1]['image_id'] == image_id:
            entries[-1] = entry
        else:
            entries.append(entry)
        del entries[:-HISTORY_LIMIT]
        self._write(self.history_path, json.dumps(data, indent=2, sort_keys=True) + '\n')

    def pins(self):
        """{service: image} from the override file (which this class alone writes)."""
        if not os.path.exists(self.override_path):
            return {}
        pins, current = {}, None
        with _safefs.open_nofollow(self.override_path, binary=False) as handle:
            for line in handle:
                stripped = line.strip()
                if line.startswith('  ') and not line.startswith('    ') and stripped.endswith(':'):
                    current = stripped[:-1]
                elif stripped.startswith('image:') and current:
                    pins[current] = json.loads(stripped[len('image:'):].strip())
        return pins

    def set_pin(self, service, image):
        pins = self.pins()
        if image is None:
            pins.pop(service, None)
        else:
            pins[service] = image
        if not pins:
            if os.path.exists(self.override_path):
                os.unlink(self.override_path)
            return
        lines = ['# Written by quickbite.ops rollback: pins services to the image they were rolled back to.',
                 '# Remove a service here (or run the rollback playbook with rollback_unpin) to follow',
                 '# docker-compose.prod.yml again.', 'services:']
        for name in sorted(pins):
            # JSON strings are valid YAML scalars and need no escaping rules of their own.
            lines += ['  %s:' % name, '    image: %s' % json.dumps(pins[name])]
        self._write(self.override_path, '\n'.join(lines) + '\n')
