# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's Log Access as a service: collect recent logs through the
platform adapter (one entry per container or pod), search them, and keep the
whole collection in one timestamped file an incident note can point at.

Check mode collects and searches the same way but writes no file.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import datetime
import errno
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils import _safefs
from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError, PlatformError
from ansible_collections.quickbite.ops.plugins.module_utils.logs import search

FILE_MODE = 0o640
DIR_MODE = 0o750
REPORT_WIDTH = 400

_DURATION = re.compile(r'^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$')


class LogSettings(object):
    """Plain holder so other procedures (incident response) can build one."""

    def __init__(self, **kwargs):
        self.services = list(kwargs.get('services') or [])
        self.selector = kwargs.get('selector') or None
        self.tail = kwargs.get('tail', 100)
        self.since = kwargs.get('since') or None
        self.previous = bool(kwargs.get('previous', False))
        self.pattern = kwargs.get('pattern', search.DEFAULT_PATTERN)
        self.ignore_case = kwargs.get('ignore_case', True)
        self.context_lines = kwargs.get('context_lines', 3)
        self.dest_dir = kwargs.get('dest_dir', '/var/log/quickbite-ops')
        self.max_matches = kwargs.get('max_matches', 200)
        # Configuration keys whose values are masked in every collected line.
        self.mask_keys = list(kwargs.get('mask_keys', _mask.DEFAULT_SECRET_KEYS) or [])


def since_seconds(text):
    """``90s``, ``10m``, ``1h``, ``2h30m``, ``1d`` to seconds (None when unset)."""
    if text is None or text == '':
        return None
    match = _DURATION.match(str(text).strip())
    if not match or not any(match.groups()):
        raise ConfigError('since %r (logs_since) is not a duration; use a number with a unit, '
                          'units combined largest first: 90s, 10m, 1h, 2h30m, 1d' % (text,))
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise ConfigError('since %r (logs_since) must be longer than 0 seconds' % (text,))
    return total


def validate(settings, adapter):
    """Raise ConfigError naming the role variable; return (regex, seconds).
    What the adapter's logs() honours is its has_label_selectors and
    has_previous_log capabilities."""
    for name in ('tail', 'context_lines', 'max_matches'):
        value = getattr(settings, name)
        if value < 0:
            raise ConfigError('%s (logs_%s) must be 0 or more, got %d' % (name, name, value))
    if settings.selector and not adapter.has_label_selectors:
        raise ConfigError('selector (logs_selector) is for Kubernetes only: %s has no label selectors; '
                          'pick services with logs_services instead' % adapter.platform)
    if settings.selector and settings.services:
        raise ConfigError('set either services (logs_services) or selector (logs_selector), not both: '
                          'the selector already picks the pods')
    return search.compile_pattern(settings.pattern, settings.ignore_case), since_seconds(settings.since)


def collect(adapter, settings, seconds):
    """[{service, source, lines}] in a stable order, plus the service labels asked for."""
    since = '%ds' % seconds if seconds else None  # both adapters read "<n>s"
    tail = settings.tail or None                  # 0: everything the platform keeps
    if settings.selector:
        entries = adapter.logs(None, tail=tail, since=since, previous=settings.previous,
                               selector=settings.selector)
        collected = [dict(service=settings.selector, source=e['source'], lines=e['lines'], note=e.get('note'))
                     for e in entries]
        return collected, [settings.selector]
    # Validates the names (unknown service -> NotFoundError naming it) and lists
    # all services when none were asked for.
    states = adapter.services(settings.services or None)
    names = [state['name'] for state in states]
    try:
        with ThreadPoolExecutor(max_workers=max(min(len(names), 4), 1)) as pool:
            futures = [pool.submit(adapter.logs, name, tail, since, settings.previous) for name in names]
            results = [future.result() for future in futures]
    except PlatformError as exc:
        if not settings.previous:
            raise
        restarts = ', '.join('%s %d' % (rep['name'], rep['restart_count'])
                             for state in states for rep in state['replicas'])
        raise PlatformError('%s; with previous (logs_previous) every pod must have a terminated earlier '
                            'container (restarts per pod: %s); narrow logs_services or logs_selector to pods '
                            'that have restarted, or collect without logs_previous' % (exc.msg, restarts or 'none'))
    collected = []
    for name, entries in zip(names, results):
        collected.extend(dict(service=name, source=e['source'] or name, lines=e['lines'], note=e.get('note'))
                         for e in entries)
    return collected, names


def file_label(settings):
    if settings.selector:
        label = 'selector-' + settings.selector
    elif settings.services:
        label = '+'.join(settings.services)
    else:
        label = 'all'
    return re.sub(r'[^A-Za-z0-9_.=+-]+', '_', label)[:80]


def file_name(settings, now):
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    return 'quickbite-logs-%s-%s.log' % (file_label(settings), stamp)


def write_file(dest_dir, name, text):
    """Write atomically with mode 0640 into the checked ``dest_dir``
    (_safefs: owner and mode checked, names resolved against its descriptor);
    never overwrite and never follow a name that exists (a second run in the
    same second, or a planted symlink, gets ``-2``). Returns the path."""
    try:
        with _safefs.SafeDir(dest_dir, 'logs_dest_dir', mode=DIR_MODE) as directory:
            tmp = '.quickbite-logs-%d-%s.tmp' % (os.getpid(), binascii.hexlify(os.urandom(6)).decode('ascii'))
            directory.write_new(tmp, text.encode('utf-8', 'replace'), FILE_MODE)
            try:
                return directory.join(_publish(directory, tmp, name))
            finally:
                directory.unlink(tmp)
    except (IOError, OSError) as exc:
        raise ConfigError('cannot write the log file into %s (logs_dest_dir): %s; set logs_dest_dir to a '
                          'directory the remote user can write' % (dest_dir, exc.strerror or exc))


def _publish(directory, tmp, name):
    stem = name[:-len('.log')]
    for attempt in range(1, 100):
        candidate = '%s%s.log' % (stem, '' if attempt == 1 else '-%d' % attempt)
        try:
            # appears complete, or not at all; fails instead of overwriting or following
            os.link(tmp, candidate, src_dir_fd=directory.fd, dst_dir_fd=directory.fd, follow_symlinks=False)
            return candidate
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
        # No hard links here: reserve the name (O_EXCL|O_NOFOLLOW), then replace it in one rename.
        try:
            os.close(directory.create(candidate, FILE_MODE))
        except _safefs.UnsafePathError:
            continue
        directory.rename(tmp, candidate)
        return candidate
    raise OSError(errno.EEXIST, 'too many files named %s-N.log' % stem)


def _describe_pattern(settings, regex):
    if regex is None:
        return 'no pattern (collected only)'
    return '/%s/%s' % (settings.pattern, 'i' if settings.ignore_case else '')


def _options_line(settings, names):
    return 'services: %s; tail %s; since %s; previous %s' % (
        ', '.join(names) or 'none', settings.tail or 'all', settings.since or '-',
        'yes' if settings.previous else 'no')


def render_file(collected, found, settings, regex, names, target, now):
    """The whole collection: a header, one section per source, every match."""
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    out = ['# QuickBite logs collected %s by quickbite.ops.logs' % stamp,
           '# target: %s' % target,
           '# %s' % _options_line(settings, names),
           '# pattern: %s, %d matching line(s)' % (_describe_pattern(settings, regex), found['total']),
           '# sources: %d, lines: %d' % (len(collected), sum(len(e['lines']) for e in collected)),
           '']
    for entry, count in zip(collected, found['counts']):
        out.append('===== %s: %s (%d lines, %d matches) =====' % (entry['service'], entry['source'],
                                                                  len(entry['lines']), count))
        out.extend(entry['lines'])
        out.append('')
    if regex is not None:
        out.append('===== matches of %s (%d, grep -n -C %d) ====='
                   % (_describe_pattern(settings, regex), found['total'], settings.context_lines))
        for entry, numbers in zip(collected, found['line_numbers']):
            if numbers:
                out.append('%s: %s' % (entry['service'], entry['source']))
                out.extend(search.format_blocks(entry['lines'], numbers, settings.context_lines))
                out.append('')
    return '\n'.join(out) + '\n'


def report(result, collected, settings, regex, names, has_previous_log):
    lines = ['%d lines from %d source(s) on %s; %d match(es) of %s'
             % (result['total_lines'], len(collected), result['target'], result['total_matches'],
                _describe_pattern(settings, regex)),
             _options_line(settings, names)]
    for source in result['sources']:
        lines.append('%s %s: %d lines, %d matches%s' % (source['service'], source['source'], source['lines'],
                                                        source['matches'],
                                                        ' (%s)' % source['note'] if source.get('note') else ''))
    for name in names:
        if not result['summary'][name]['sources']:
            lines.append('%s: no log lines (no container or pod, or none in the window)' % name)
    if settings.previous and not has_previous_log:
        lines.append('previous has no effect here: a restarted container keeps its earlier output '
                     'in its log, collected as usual')
    if result['file']:
        lines.append('Written to %s' % result['file'])
    else:
        lines.append('Check mode: no file written (a real run writes %s)' % result['would_write'])
    shown = {}
    for match in result['matches']:
        shown.setdefault(match['source'], []).append(match['line_number'])
    for entry in collected:
        if entry['source'] in shown:
            lines.append('--- %s %s' % (entry['service'], entry['source']))
            lines.extend(search.format_blocks(entry['lines'], shown[entry['source']], settings.context_lines,
                                              REPORT_WIDTH))
    if result['truncated']:
        lines.append('%d of %d matches shown (max_matches); all are in the file'
                     % (len(result['matches']), result['total_matches']))
    return lines


def run(adapter, settings, check_mode=False, clock=time.time, masker=None):
    """``masker``: the _mask.Masker of the configuration's secrets (built from
    ``settings.mask_keys`` when not given); every collected line passes
    through it before it is searched, returned or written."""
    regex, seconds = validate(settings, adapter)
    if masker is None:
        masker = _mask.from_adapter(adapter, settings.mask_keys, 'logs_mask_keys')
    collected, names = collect(adapter, settings, seconds)
    for entry in collected:
        entry['lines'] = masker.lines(entry['lines'])
        if entry.get('note'):
            entry['note'] = masker.text(entry['note'])
    found = search.search_sources(collected, regex, settings.context_lines, settings.max_matches)
    now = clock()
    summary = dict((name, dict(sources=0, lines=0, matches=0)) for name in names)
    sources = []
    for entry, count in zip(collected, found['counts']):
        sources.append(dict(service=entry['service'], source=entry['source'], lines=len(entry['lines']),
                            matches=count))
        if entry.get('note'):
            sources[-1]['note'] = entry['note']
        totals = summary[entry['service']]
        totals['sources'] += 1
        totals['lines'] += len(entry['lines'])
        totals['matches'] += count
    name = file_name(settings, now)
    path = None
    if not check_mode:
        text = render_file(collected, found, settings, regex, names, adapter.describe(), now)
        path = write_file(settings.dest_dir, name, text)
    result = dict(
        changed=True,  # every real run writes a new file
        file=path,
        would_write=os.path.join(settings.dest_dir, name) if check_mode else None,
        sources=sources, summary=summary, matches=found['matches'],
        total_lines=sum(s['lines'] for s in sources), total_matches=found['total'],
        truncated=found['truncated'], target=adapter.describe(), platform=adapter.platform,
    )
    result['report_lines'] = report(result, collected, settings, regex, names, adapter.has_previous_log)
    return result
