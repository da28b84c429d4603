# Test-only callback: appends every task result as one JSON line to
# $QUICKBITE_RECORD_FILE so tests assert on structured results, not on text.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: record
type: aggregate
short_description: Record task results as JSON lines (tests only)
description:
  - Writes one JSON object per task result to the file named by C(QUICKBITE_RECORD_FILE).
options: {}
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record'
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, result, status):
        path = os.environ.get('QUICKBITE_RECORD_FILE')
        if not path:
            return
        entry = dict(task=result._task.get_name(), action=result._task.action, host=result._host.get_name(),
                     status=status, result=result._result)
        with open(path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')
