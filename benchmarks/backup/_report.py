"""Tables, targets and the recommendation of benchmarks/backup."""
import statistics
import sys

MB = 1e6
LIMIT_FACTOR = 1.15
RESTORE_TARGET = 0.75  # the module's default restore against the runbook's gunzip | psql (issue 10)
# backup variant -> the restores measured for its files
RESTORE_OF = {'runbook': ['runbook'], 'fcz1t2': ['fcz', 'fczfile'], 'fc0': ['fc0j2'], 'plainz1': ['plainz'],
              'dir1': ['dirj2'], 'module': ['module']}
# (format, compression) in the module's manifest -> the raw variant that runs the same pipeline
RAW_OF_MODULE = {('custom', 'zstd'): 'fcz1t2', ('plain', 'zstd'): 'plainz1', ('plain', 'gzip'): 'runbook',
                 ('custom', 'gzip'): 'fc', ('custom', 'none'): 'fc0', ('directory', 'gzip'): 'dir1',
                 ('directory', 'none'): 'dir0'}


def say(text=''):
    print(text)
    sys.stdout.flush()


def mb(kb_list):
    return ' + '.join('%.0f' % (kb / 1024.0) for kb in kb_list)


def module_memory(peak):
    """The module's peak_memory ({module_mb, stages: [{program, max_rss_mb}]}) as 'module 35, pg_dump 12 + zstd 15'."""
    try:
        stages = ' + '.join('%s %.0f' % (s['program'], s['max_rss_mb']) for s in peak['stages'])
        return 'module %.0f, %s' % (peak['module_mb'], stages)
    except (KeyError, TypeError):
        return str(peak)


def seconds(value):
    return '-' if value is None else '%.1fs' % value


def module_total_mb(peak):
    try:
        return peak['module_mb'] + sum(s['max_rss_mb'] for s in peak['stages'])
    except (KeyError, TypeError):
        return None


def summary(row):
    """Medians of wall and CPU, the last size, the largest peak of each process, all restores right."""
    samples = row['samples']
    out = dict(samples[-1], label=row['label'], n=len(samples))
    out['wall'] = statistics.median(s['wall'] for s in samples)
    out['min'] = min(s['wall'] for s in samples)
    for key in ('cpu', 'server'):
        values = [s[key] for s in samples if s.get(key) is not None]
        out[key] = statistics.median(values) if values else None
    out['rss'] = [max(column) for column in zip(*[s['rss'] for s in samples])] if samples[0]['rss'] else []
    out['ok'] = all(s.get('ok', True) for s in samples)
    for key in ('pipeline', 'ansible_wall'):
        values = [s[key] for s in samples if s.get(key) is not None]
        out[key] = statistics.median(values) if values else None
    peaks = [s['peak_memory'] for s in samples if s.get('peak_memory')]
    if peaks:
        out['peak_memory'] = max(peaks, key=lambda p: module_total_mb(p) or 0)
    return out


def report(bench, plain, db_size, runs):
    b = dict((key, summary(row)) for key, row in bench.backups.items())
    r = dict((key, summary(row)) for key, row in bench.restores.items())
    limit, limit_file, runbook = b['limit']['wall'], b['fc0']['wall'], b['runbook']
    say()
    say('Dataset: database %.2f GB; plain dump %.1f MB; runbook gzip %.1f MB: %.2f:1 of the dump, %.2f:1 of the '
        'database' % (db_size / 1e9, plain / MB, runbook['size'] / MB, plain / float(runbook['size']),
                      db_size / float(runbook['size'])))
    say()
    say('Backups, median of %d (min: fastest run; cpu: user+sys of the client processes, srv: of the server; '
        'peak RSS per client process, pg_dump first)' % runs)
    say('%-46s %7s %7s %7s %7s %9s %7s %7s %7s %7s  %s'
        % ('variant', 'wall', 'min', 'cpu', 'srv', 'size', 'x limit', 'x file', 'x rb t', 'x rb sz', 'peak RSS MB'))
    for row in b.values():
        say('%-46s %6.1fs %6.1fs %7s %6.1fs %7.1fMB %7.2f %7.2f %7.2f %7s  %s'
            % (row['label'], row['wall'], row['min'], seconds(row['cpu']), row['server'], row['size'] / MB,
               row['wall'] / limit, row['wall'] / limit_file, row['wall'] / runbook['wall'],
               '%.2f' % (row['size'] / runbook['size']) if row['size'] else '-',
               mb(row['rss']) if row['rss'] else module_memory(row.get('peak_memory'))))
    say('(x limit: median against the read limit pg_dump -Fc -Z0 > /dev/null; x file: against the same written to '
        'a file; x rb: against the runbook. On a shared machine min is the better estimate of the uncontended time)')
    say()
    say('Restores into a fresh database as its owner, median of %d' % runs)
    say('%-46s %7s %7s %7s %7s %9s  %-14s %s'
        % ('variant', 'wall', 'min', 'cpu', 'srv', 'x runbook', 'peak RSS MB', 'rows'))
    for row in r.values():
        say('%-46s %6.1fs %6.1fs %7s %6.1fs %9.2f  %-14s %s'
            % (row['label'], row['wall'], row['min'], seconds(row['cpu']), row['server'],
               row['wall'] / r['runbook']['wall'], mb(row['rss']) if row['rss'] else '-',
               'match' if row['ok'] else 'DIFFER'))
    targets(b, r)
    if 'module' in b:
        module_summary(b, r, bench.pairs)


def targets(b, r):
    limit, limit_file, runbook = b['limit']['wall'], b['fc0']['wall'], b['runbook']
    say()
    say('Targets: backup <= %.2fx the read limit (%.1f s; %.1f s when written to a file), size <= the runbook\'s '
        '(%.1f MB), restore faster than the runbook\'s (%.1f s)'
        % (LIMIT_FACTOR, LIMIT_FACTOR * limit, LIMIT_FACTOR * limit_file, runbook['size'] / MB, r['runbook']['wall']))
    passing = {}
    for key, restore_keys in RESTORE_OF.items():
        done = [r[k] for k in restore_keys if k in r]
        if key not in b or not done:
            continue
        row, best = b[key], min(done, key=lambda x: x['wall'])
        checks = dict(limit=row['wall'] <= LIMIT_FACTOR * limit, file=row['wall'] <= LIMIT_FACTOR * limit_file,
                      size=row['size'] <= runbook['size'], restore=best['wall'] < r['runbook']['wall'])
        say('  %-44s time %s (vs file %s)  size %s  restore %s (%s, %.1f s)'
            % (row['label'], *['ok' if checks[c] else 'NO' for c in ('limit', 'file', 'size', 'restore')],
               best['label'], best['wall']))
        if key not in ('runbook', 'module') and checks['size'] and checks['restore']:
            passing[key] = checks
    strict = [k for k, c in passing.items() if c['limit']]
    loose = [k for k, c in passing.items() if c['file']]
    if strict or loose:
        best = min(strict or loose, key=lambda k: b[k]['wall'])
        say('Fastest backup meeting the size and restore targets%s: %s (%.1f s, %.1f MB)'
            % ('' if strict else ' and 1.15x of the read limit written to a file (not of /dev/null)',
               b[best]['label'], b[best]['wall'], b[best]['size'] / MB))
    else:
        say('No measured variant meets the size, restore and time targets together')


def module_summary(b, r, pairs):
    row = b['module']
    manifest = row.get('manifest') or {}
    raw = RAW_OF_MODULE.get((manifest.get('format'), manifest.get('compression')))
    say()
    say('Module backup: %.1f s (ansible command %.1f s), of which its pipeline %s s'
        % (row['wall'], row['ansible_wall'], '%.1f' % row['pipeline'] if row['pipeline'] else '?'))
    if raw in b:
        say('  overhead over the same raw pipeline (%s, %.1f s): %+.1f%% (target < 5%%); its pipeline alone %+.1f%%'
            % (b[raw]['label'], b[raw]['wall'], 100 * (row['wall'] / b[raw]['wall'] - 1),
               100 * ((row['pipeline'] or 0) / b[raw]['wall'] - 1)))
    total = module_total_mb(row.get('peak_memory'))
    say('  peak memory MB: %s; sum %s (target < 100)'
        % (module_memory(row.get('peak_memory')), '%.0f' % total if total is not None else '?'))
    if 'module' in r:
        same = [r[k] for k in RESTORE_OF.get(raw, []) if k in r]
        say('Module restore: %.1f s (ansible command %.1f s) vs runbook %.1f s (%.2fx)%s'
            % (r['module']['wall'], r['module']['ansible_wall'], r['runbook']['wall'],
               r['module']['wall'] / r['runbook']['wall'],
               '; the same restore raw (%s): %.1f s' % (same[0]['label'], same[0]['wall']) if same else ''))
        if pairs:
            ratios = [module / runbook for runbook, module in pairs]
            say('restore/runbook ratio: %.2f (target <= %.2f): the median of %d round%s, each the two restores back '
                'to back (%s); rows and per-table checksums %s'
                % (statistics.median(ratios), RESTORE_TARGET, len(ratios), 's' if len(ratios) > 1 else '',
                   ', '.join('%.1f / %.1f s = %.2f' % (runbook, module, module / runbook) for runbook, module in pairs),
                   'match' if r['module']['ok'] else 'DIFFER'))
