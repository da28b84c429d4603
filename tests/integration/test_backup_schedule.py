"""backup_schedule on this host and the real Compose stack: check mode, install, idempotence,
the runner as cron runs it (clean environment, cron's PATH), its failure, lock and timeout
paths as an on-call engineer reads them in the log, and removal.

Every path is the test's own (runner, inventory, log, lock, backups, cron entry name), so
the test never touches a real schedule; the entry is at 02:00 and removed at the end.
That the real cron daemon fires the entry is the Molecule scenario `schedule`."""
import fcntl
import json
import os
import re
import subprocess

import pytest
import yaml

from conftest import ROOT, run_playbook
from dbtools import backups_in

pytestmark = [pytest.mark.integration, pytest.mark.compose]

STAMP = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[\d+\]'


@pytest.fixture
def paths(tmp_path):
    return dict(runner=str(tmp_path / 'quickbite-backup-test'), inventory=str(tmp_path / 'etc' / 'backup.yml'),
                log=str(tmp_path / 'quickbite-backup.log'), lock=str(tmp_path / 'lock' / 'backup.lock'),
                backups=str(tmp_path / 'backups'), name='quickbite backup schedule test %d' % os.getpid())


@pytest.fixture
def schedule_vars(demo_vars, paths):
    values = dict(demo_vars, quickbite_backup_dir=paths['backups'], backup_schedule_runner=paths['runner'],
                  backup_schedule_inventory=paths['inventory'], backup_schedule_log=paths['log'],
                  backup_schedule_lock_file=paths['lock'], backup_schedule_cron_name=paths['name'],
                  backup_schedule_logrotate=False)
    yield values
    # The entry out of root's crontab directly: a playbook run per test cost ~3 s, and
    # removal by the role is what test_absent_removes_the_schedule_and_keeps_the_log proves.
    remove_entry(paths)


def schedule(values, tmp_path, check=False, **extra):
    return run_playbook('backup_schedule.yml', extra=dict(values, **extra), check=check, tmp_path=tmp_path)


def crontab():
    proc = subprocess.run(['crontab', '-l'], capture_output=True, text=True, check=False)
    return proc.stdout.splitlines()


def remove_entry(paths):
    lines = crontab()
    marker = '#Ansible: ' + paths['name']
    if marker in lines:
        index = lines.index(marker)
        del lines[index:index + 2]
        subprocess.run(['crontab', '-'], input=''.join(line + '\n' for line in lines), text=True, check=True)


def entry(paths):
    """The command line under our entry's name in root's crontab, or None."""
    lines = crontab()
    marker = '#Ansible: ' + paths['name']
    return lines[lines.index(marker) + 1] if marker in lines else None


def as_cron(job, *args):
    """Run the entry's command as cron does: /bin/sh -c, cron's environment."""
    command = job.split(' ', 5)[5]
    if args:
        command += ' ' + ' '.join(args)
    return subprocess.run(['/bin/sh', '-c', command], capture_output=True, text=True, timeout=300, check=False,
                          cwd='/', env=dict(PATH='/usr/bin:/bin', HOME='/root', SHELL='/bin/sh', LOGNAME='root'))


def log_lines(paths):
    with open(paths['log']) as handle:
        return handle.read().splitlines()


def changed_count(run):
    return int(re.search(r'changed=(\d+)', run.output).group(1))


def test_check_mode_installs_nothing_then_install_is_idempotent(stack, schedule_vars, paths, tmp_path):
    before = crontab()
    run = schedule(schedule_vars, tmp_path, check=True)
    assert run.rc == 0, run.output[-3000:]
    report = run.result('debug')['msg']
    assert any(line.startswith("cron entry '%s' of root: 0 2 * * * %s --log (would be installed)"
                               % (paths['name'], paths['runner'])) for line in report), report
    assert not os.path.exists(paths['runner']) and not os.path.exists(paths['inventory'])
    assert not os.path.exists(paths['log'])
    assert crontab() == before

    run = schedule(schedule_vars, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert entry(paths) == '0 2 * * * %s --log' % paths['runner']
    assert os.stat(os.path.dirname(paths['lock'])).st_mode & 0o777 == 0o700
    assert os.stat(paths['runner']).st_mode & 0o777 == 0o755
    assert os.stat(paths['inventory']).st_mode & 0o777 == 0o600
    assert os.stat(paths['log']).st_mode & 0o777 == 0o640
    with open(paths['inventory']) as handle:
        inventory = handle.read()
    assert 'backup_db_verify: true' in inventory and 'backup_db_keep_last: 7' in inventory
    assert 'quickbite_backup_dir: %s' % paths['backups'] in inventory
    assert 'password' not in inventory.replace('No password here', '')
    with open(paths['runner']) as handle:
        runner = handle.read()
    assert runner.startswith('#!/bin/bash\n') and 'set -euo pipefail' in runner
    if subprocess.run(['which', 'shellcheck'], capture_output=True, check=False).returncode == 0:
        lint = subprocess.run(['shellcheck', paths['runner']], capture_output=True, text=True, check=False)
        assert lint.returncode == 0, lint.stdout

    again = schedule(schedule_vars, tmp_path)
    assert again.rc == 0 and changed_count(again) == 0, again.output[-3000:]


def test_the_entry_makes_a_verified_backup_and_logs_it(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path, backup_schedule_keep_last=2).rc == 0
    nights = [as_cron(entry(paths)) for night in range(3)]
    assert [(p.returncode, p.stdout, p.stderr) for p in nights] == [(0, '', '')] * 3, nights
    lines = log_lines(paths)
    starts = [line for line in lines if re.match(STAMP + r' START backup: ', line)]
    ends = [line for line in lines if re.match(STAMP + r' END ', line)]
    assert len(starts) == len(ends) == 3, lines
    assert all(re.match(STAMP + ' ', line) for line in lines), lines
    assert all(re.search(r'END rc=0 OK in \d+ s: backup %s/quickbite_\d{8}_\d{6}\.[a-z.]+ VERIFIED$'
                         % re.escape(paths['backups']), line) for line in ends), ends
    assert sum('"ok   row counts of' in line for line in lines) == 3
    # Retention after each success: the newest two remain, each verified.
    kept = [n[:-len('.manifest.json')] for n in backups_in(paths['backups']) if n.endswith('.manifest.json')]
    assert len(kept) == 2
    newest = ends[-1].rsplit(' ', 2)[-2]
    assert os.path.basename(newest) == sorted(kept)[-1] and os.path.exists(newest)
    for name in kept:
        with open(os.path.join(paths['backups'], name + '.manifest.json')) as handle:
            assert json.load(handle)['verification']['ok'] is True


def test_a_failed_backup_says_why_in_the_end_line(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path).rc == 0
    proc = as_cron(entry(paths), '-e', 'quickbite_db_port=1')
    assert proc.returncode == 2
    end = [line for line in log_lines(paths) if ' END ' in line]
    assert len(end) == 1 and re.search(r'END rc=2 FAILED in \d+ s: .*unable to connect to quickbite@127.0.0.1:1',
                                       end[0]), end
    assert any('rerun by hand: %s' % paths['runner'] in line for line in log_lines(paths))
    assert backups_in(paths['backups']) == []


def test_a_second_run_is_refused_while_one_holds_the_lock(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path).rc == 0
    os.makedirs(os.path.dirname(paths['lock']), exist_ok=True)
    with open(paths['lock'], 'w') as handle:
        handle.write('pid 4242 since 2026-01-01T02:00:00+0000\n')
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = as_cron(entry(paths))
    assert proc.returncode == 75
    lines = log_lines(paths)
    assert len(lines) == 1 and re.match(
        STAMP + r' REFUSED: another backup is running \(pid 4242 since 2026-01-01T02:00:00\+0000, lock ', lines[0])
    assert backups_in(paths['backups']) == []


def test_the_runner_never_follows_a_planted_log_or_lock(stack, schedule_vars, paths, tmp_path):
    """A symlink at the log's or the lock's path, or a lock directory others can
    write: the runner refuses (78) and writes nothing through it."""
    assert schedule(schedule_vars, tmp_path).rc == 0
    victim = tmp_path / 'victim'
    victim.write_text('root data\n')
    os.unlink(paths['log'])
    os.symlink(str(victim), paths['log'])
    proc = as_cron(entry(paths))
    assert proc.returncode == 78 and 'REFUSED: log %s is a symlink' % paths['log'] in proc.stderr, proc
    os.unlink(paths['log'])
    os.symlink(str(tmp_path / 'new-file'), paths['log'])  # dangling: would be created through the link
    assert as_cron(entry(paths)).returncode == 78 and not (tmp_path / 'new-file').exists()
    os.unlink(paths['log'])
    lock_dir = os.path.dirname(paths['lock'])
    os.symlink(str(victim), paths['lock'])
    proc = as_cron(entry(paths))
    assert proc.returncode == 78 and 'lock_file %s is a symlink' % paths['lock'] in log_lines(paths)[-1], proc
    os.unlink(paths['lock'])
    os.chmod(lock_dir, 0o777)
    proc = as_cron(entry(paths))
    assert proc.returncode == 78 and 'lock_file directory %s (owner uid 0, mode 777)' % lock_dir in log_lines(paths)[-1]
    assert victim.read_text() == 'root data\n' and backups_in(paths['backups']) == []


def test_a_run_past_the_timeout_is_stopped(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path, backup_schedule_timeout=1).rc == 0
    proc = as_cron(entry(paths))
    assert proc.returncode == 124
    assert re.search(r'END rc=124 FAILED: stopped after 1 s', log_lines(paths)[-1])
    assert [n for n in backups_in(paths['backups']) if n.endswith('.partial')] == []


def test_the_runner_checks_its_set_up_without_a_backup(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path).rc == 0
    proc = subprocess.run([paths['runner'], '--list-hosts'], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and 'hosts (1):' in proc.stdout, proc
    assert log_lines(paths) == [] and backups_in(paths['backups']) == []


def test_absent_removes_the_schedule_and_keeps_the_log(stack, schedule_vars, paths, tmp_path):
    assert schedule(schedule_vars, tmp_path).rc == 0
    absent = dict(schedule_vars, backup_schedule_state='absent')
    run = schedule(absent, tmp_path, check=True)
    assert run.rc == 0 and "of root: would be removed" in run.output, run.output[-3000:]
    assert entry(paths) is not None and os.path.exists(paths['runner'])
    run = schedule(absent, tmp_path)
    assert run.rc == 0, run.output[-3000:]
    assert entry(paths) is None and not any(paths['runner'] in line for line in crontab())
    assert not os.path.exists(paths['runner']) and not os.path.exists(paths['inventory'])
    assert os.path.exists(paths['log'])
    again = schedule(absent, tmp_path)
    assert again.rc == 0 and changed_count(again) == 0


def test_no_ansible_playbook_on_the_host_is_refused_before_anything(stack, schedule_vars, paths, tmp_path):
    run = schedule(schedule_vars, tmp_path, backup_schedule_ansible_playbook='/nonexistent/bin/ansible-playbook')
    assert run.rc != 0
    assert 'backup_schedule_ansible_playbook' in run.output and '/nonexistent/bin/ansible-playbook' in run.output
    assert entry(paths) is None and not os.path.exists(paths['runner'])


def test_the_run_gets_every_setting_the_backup_reads_and_no_password():
    """The scheduled run's inventory copies a fixed list of variables: it must keep up with the roles."""
    with open(os.path.join(ROOT, 'roles', 'backup_schedule', 'vars', 'main.yml')) as handle:
        copied = set(yaml.safe_load(handle)['__backup_schedule_copied_vars'])
    read = set()
    for role in ('backup_db', 'verify_backup'):
        with open(os.path.join(ROOT, 'roles', role, 'tasks', 'main.yml')) as handle:
            read |= set(re.findall(r'\b(quickbite_\w+)', handle.read()))
        with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml')) as handle:
            read |= set(yaml.safe_load(handle))
    # Both take the platform options from role quickbite's quickbite_platform_options, which is
    # derived there from inventory variables: those are what the run needs.
    with open(os.path.join(ROOT, 'roles', 'quickbite', 'defaults', 'main.yml')) as handle:
        read |= set(re.findall(r'\b(quickbite_\w+)', handle.read()))
    read.discard('quickbite_platform_options')
    set_by_the_schedule = {'backup_db_keep_last', 'backup_db_keep_days', 'backup_db_verify'}
    per_backup = {'verify_backup_path', 'verify_backup_dest_dir', 'verify_backup_prefix'}
    # The schedule verifies the backup it has just taken: never a foreign one, so the override stays out.
    not_for_the_schedule = {'verify_backup_allow_foreign_backup'}
    secret = ('password', 'api_key', 'secret_new')
    expected = {name for name in read if not any(word in name for word in secret)}
    expected -= set_by_the_schedule | per_backup | not_for_the_schedule
    assert expected - copied == set() and not not_for_the_schedule & copied
    assert [name for name in copied if any(word in name for word in secret)] == []
