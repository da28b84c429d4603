# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a diagnosis check finds: one Finding per question it answers, named
by the runbook section it belongs to ("Common Issues & Fixes"), with the
evidence and the playbook that fixes it, and the one report line per finding
the playbook prints."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

OK, PROBLEM, SKIPPED = 'OK', 'PROBLEM', 'SKIPPED'
STATUSES = (OK, PROBLEM, SKIPPED)

# The runbook's "Common Issues & Fixes" sections, as the report names them.
CONNECTION_REFUSED = "Backend won't start - connection refused"
WEBSOCKET_TIMEOUTS = 'WebSocket connections timing out'
WEBHOOK_400 = 'Payment webhook returning 400'
BLANK_PAGE = 'Frontend shows blank page'
FLYWAY = 'Flyway migration conflict'


class Finding(object):
    """``section``: a runbook section (above); ``status``: OK, PROBLEM or
    SKIPPED (the question could not be asked here, ``summary`` says why);
    ``summary``: the finding in words, with the evidence that matters;
    ``evidence``: the data behind it (JSON-serialisable, secrets masked or
    fingerprinted); ``fix``: the playbook that repairs it (a name under
    playbooks/, without .yml) or None; ``fix_note``: how to run that playbook
    for this case, or what to do by hand when there is none."""

    def __init__(self, section, status, summary, evidence=None, fix=None, fix_note=None, check=None):
        if status not in STATUSES:
            raise ValueError('status %r is not one of %s' % (status, ', '.join(STATUSES)))
        self.section = section
        self.status = status
        self.summary = summary
        self.evidence = dict(evidence or {})
        self.fix = fix
        self.fix_note = fix_note
        self.check = check  # set by the registry: the check that found it

    @property
    def problem(self):
        return self.status == PROBLEM

    def as_dict(self):
        return dict(check=self.check, section=self.section, status=self.status, summary=self.summary,
                    evidence=self.evidence, fix=self.fix, fix_note=self.fix_note, line=report_line(self))


def ok(section, summary, evidence=None):
    return Finding(section, OK, summary, evidence)


def problem(section, summary, evidence=None, fix=None, fix_note=None):
    return Finding(section, PROBLEM, summary, evidence, fix, fix_note)


def skipped(section, summary, evidence=None):
    return Finding(section, SKIPPED, summary, evidence)


def report_line(finding):
    """``<section>: OK|PROBLEM|SKIPPED - <evidence> -> run playbooks/<fix>.yml``."""
    line = '%s: %s - %s' % (finding.section, finding.status, finding.summary)
    if finding.status != PROBLEM:
        return line
    if finding.fix:
        line += ' -> run playbooks/%s.yml' % finding.fix
        if finding.fix_note:
            line += ' (%s)' % finding.fix_note
    else:
        line += ' -> no playbook fixes this: %s' % (finding.fix_note or 'see the runbook section')
    return line
