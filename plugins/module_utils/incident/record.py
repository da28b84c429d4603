# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incident record (runbook step 7): ``<incident_dir>/<incident_id>/``,
mode 0700, every file 0600, written through _safefs (the collection's one
writer): report.json and report.md (the last run's evidence, logs
included), timeline.jsonl (UTC, appended by every run with the same id) and
postmortem.md (a draft written once: a person edits it afterwards, so a
later run leaves it as it is)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime
import json
import os
import re
import time

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError
from ansible_collections.quickbite.ops.plugins.module_utils.incident import probes

FILES = ('report.json', 'report.md', 'timeline.jsonl', 'postmortem.md')
_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$')
DUE_HOURS = 24


def check_id(incident_id):
    if not _ID.match(incident_id or ''):
        raise ConfigError('incident_id %r is not a plain name (letters, digits, ".", "_", "-", at most 100, not '
                          'starting with "." or "-"); leave incident_id empty for a new id from the time'
                          % incident_id)
    return incident_id


def due_time(detected_at):
    """Detection + 24 h, ISO UTC."""
    then = calendar.timegm(time.strptime(detected_at[:19], '%Y-%m-%dT%H:%M:%S')) + DUE_HOURS * 3600
    return datetime.datetime.fromtimestamp(then, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def timeline_entries(report, incident_id, events):
    """This run's timeline: detection, each probe, the severity, and the
    events the role passes (notifications, rollback), in UTC time order."""
    entries = [dict(time=report['detected_at'], incident=incident_id, step='detected',
                    detail='incident run started on %s' % report['target'])]
    for name in probes.PROBES:
        probe = report['evidence'].get(name)
        if probe is not None:
            entries.append(dict(time=report['detected_at'], incident=incident_id, step='probe %s' % name,
                                detail='%s in %d ms: %s' % (probe['status'], probe['duration_ms'], probe['summary'])))
    sev = report['severity']
    entries.append(dict(time=report['detected_at'], incident=incident_id, step='severity',
                        detail='%s: %s' % (sev['level'], sev['reason'])))
    for event in events:
        entries.append(dict(time=event.get('time') or probes.utc_now(), incident=incident_id,
                            step=event.get('step') or 'event', detail=event.get('detail') or ''))
    return sorted(entries, key=lambda e: e['time'])  # stable: same-second steps keep their order


def _code(lines):
    return ['```'] + [line.replace('```', "'''") for line in lines] + ['```']


def render_report(report, incident_id):
    sev = report['severity']
    out = ['# Incident %s' % incident_id, '',
           '- Detected: %s' % report['detected_at'], '- Target: %s' % report['target'],
           '- Severity: **%s** (respond within %s): %s' % (sev['level'], sev['response_time'] or 'n/a', sev['reason']),
           '- Rollback: %s' % report['rollback']['why'], '', '## Probes', '',
           '| Probe | Status | ms | Summary |', '|---|---|---|---|']
    for name in probes.PROBES:
        probe = report['evidence'].get(name)
        if probe is not None:
            out.append('| %s | %s | %d | %s |' % (name, probe['status'], probe['duration_ms'],
                                                  probe['summary'].replace('|', '\\|').replace('\n', ' ')))
    logs = report['evidence'].get('logs', {}).get('data') or {}
    if logs.get('errors'):
        out += ['', '## Error summary (last %d min)' % logs['minutes'], '',
                '| Service | Count | First | Last | Message |', '|---|---|---|---|---|']
        out += ['| %s | %d | %s | %s | %s |' % (e['service'], e['count'], e['first'] or '', e['last'] or '',
                                                e['message'].replace('|', '\\|')) for e in logs['errors']]
    for service, lines in sorted((logs.get('lines') or {}).items()):
        out += ['', '## Logs: %s (last %d lines)' % (service, len(lines)), ''] + _code(lines)
    return '\n'.join(out) + '\n'


def render_postmortem(report, incident_id, timeline, actions):
    sev = report['severity']
    down = list(sev['reasons'].get('P1', [])) or [sev['reason']]
    out = ['# Post-mortem: incident %s (draft)' % incident_id, '',
           'Blameless: describe what happened and why the system allowed it, not who did what.', '',
           '- Severity: %s (respond within %s)' % (sev['level'], sev['response_time'] or 'n/a'),
           '- Detected: %s' % report['detected_at'],
           '- Post-mortem due: %s (detection + %d h)' % (due_time(report['detected_at']), DUE_HOURS),
           '- Status: draft, written by quickbite.ops.incident_record; edit freely (later runs keep your edits)', '',
           '## Impact', '', 'What was down or degraded, from when (as detected):', '']
    out += ['- %s (from %s at the latest)' % (reason, report['detected_at']) for reason in down]
    out += ['', 'Users and orders affected: _to be filled in_', '', '## Timeline (UTC)', '']
    out += ['- %s %s: %s' % (e['time'], e['step'], e['detail'].replace('\n', ' ')) for e in timeline]
    out += ['', '## Actions taken', '']
    out += ['- %s' % a for a in actions] or ['- none by the incident run']
    out += ['', '## Root cause', '', '_to be filled in by a person_', '',
            '## What went well', '', '_to be filled in_', '', '## What went wrong', '', '_to be filled in_', '',
            '## Where we got lucky', '', '_to be filled in_', '',
            '## Action items', '', '| Action | Owner | Due |', '|---|---|---|', '| _to be filled in_ | | |', '']
    return '\n'.join(out)


def write(incident_dir, incident_id, report, events, actions, check_mode):
    """Write or extend the record; returns {path, files: {name: written|appended|kept}, timeline_entries}."""
    path = os.path.join(incident_dir, check_id(incident_id))
    entries = timeline_entries(report, incident_id, events)
    files = {}
    if check_mode:  # the same answers, nothing written
        for name in FILES:
            present = os.path.exists(os.path.join(path, name))
            files[name] = ('appended' if present else 'written') if name == 'timeline.jsonl' else (
                'kept' if present and name == 'postmortem.md' else 'written')
        return dict(path=path, files=files, timeline_entries=len(entries))
    with _safefs.SafeDir(path, 'incident_dir (with incident_id)') as directory:
        files['timeline.jsonl'] = 'appended' if directory.exists('timeline.jsonl') else 'written'
        fd = directory.append('timeline.jsonl')
        try:
            _safefs._write_all(fd, ''.join(json.dumps(e, sort_keys=True) + '\n' for e in entries))  # pylint: disable=protected-access
            os.fsync(fd)
        finally:
            os.close(fd)
        timeline = [json.loads(line) for line in directory.read_bytes('timeline.jsonl').decode('utf-8').splitlines()
                    if line.strip()]
        directory.write_atomic('report.json', json.dumps(dict(report, incident_id=incident_id, actions=actions,
                                                              events=events), indent=2, sort_keys=True) + '\n')
        files['report.json'] = 'written'
        directory.write_atomic('report.md', render_report(report, incident_id))
        files['report.md'] = 'written'
        if directory.exists('postmortem.md'):
            files['postmortem.md'] = 'kept'
        else:
            directory.write_new('postmortem.md', render_postmortem(report, incident_id, timeline, actions))
            files['postmortem.md'] = 'written'
    return dict(path=path, files=files, timeline_entries=len(entries))
