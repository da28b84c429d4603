# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Backend won't start - connection refused": is the
database service running and ready; which database address the running
backend uses (its own environment, which may differ from the configuration);
does it match where PostgreSQL listens; can the backend's container or pod
open a TCP connection to it; and what the backend's last end and log lines
say (connection refused, password authentication failed, unknown database,
a failed Flyway migration, OOMKilled). The database's readiness is the
health check's db check and the backend's last end the incident evidence's
platform state (adapter.incident_state), both reused as they are."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.quickbite.ops.plugins.module_utils import _mask
from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import _dbaddress, registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import (
    CONNECTION_REFUSED, ok, problem, skipped)
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health import checks as health_checks
from ansible_collections.quickbite.ops.plugins.module_utils.health import exec_checks
from ansible_collections.quickbite.ops.plugins.module_utils.health import service as health
from ansible_collections.quickbite.ops.plugins.module_utils.incident import logsummary

SECTION = CONNECTION_REFUSED
LOG_TAIL = 200
# A TCP connect run inside the backend: python3, else bash's /dev/tcp (host and
# port are arguments, never part of the code).
PY_CONNECT = ('import socket,sys,time\nt=time.time()\ntry:\n'
              ' socket.create_connection((sys.argv[1],int(sys.argv[2])),float(sys.argv[3])).close()\n'
              'except Exception as e:\n print("%s: %s"%(e.__class__.__name__,e));sys.exit(1)\n'
              'print("connected in %d ms"%((time.time()-t)*1000))')
BASH_CONNECT = 'exec 3<>"/dev/tcp/$0/$1" && echo connected'
NOT_FOUND = (126, 127)


def _recreate(settings):
    return "-e '{\"restart_services\": [\"%s\"]}' -e restart_mode=recreate" % settings.backend_service


def _database_service(adapter, settings):
    """(ready, finding) from the platform's state of the database service and the health check's db check."""
    checked = copy.copy(settings.health)
    checked.checks = ['db']
    db = health.run_once(adapter, checked)['db']
    try:
        state = adapter.services([settings.db_service])[0]
    except QuickbiteError as exc:  # an external database (managed PostgreSQL) is not the platform's
        state = dict(ok=None, problems=[exc.msg], replicas=[])
    evidence = dict(db_check=db['status'], db_evidence=settings.masker.text(db['evidence']),
                    service=settings.db_service, service_ok=state['ok'], service_problems=state['problems'])
    if db['status'] == 'UP' and state['ok'] is not False:
        return True, ok(SECTION, 'database service %s running and ready: %s' % (settings.db_service, db['evidence']),
                        evidence)
    where = '; '.join(state['problems']) or 'running'
    if state['ok'] is False:
        return False, problem(SECTION, 'database service %s is not running and ready (%s); %s' % (
            settings.db_service, where, db['evidence']), evidence, fix='restart',
            fix_note="-e '{\"restart_services\": [\"%s\"]}' starts it and waits until it is healthy"
                     % settings.db_service)
    if 'password authentication failed' in db['evidence']:
        return False, problem(SECTION, 'database service %s refuses the configured credentials: %s' % (
            settings.db_service, db['evidence']), evidence, fix='rotate_db_password',
            fix_note='it sets a new password on the role and in the configuration together (as the admin role), then '
                     'recreates the backend')
    return False, problem(SECTION, 'database service %s runs but does not answer: %s' % (
        settings.db_service, db['evidence']), evidence, fix=None,
        fix_note='check the database logs (playbooks/logs.yml) and quickbite_db_host/quickbite_db_port')


def _configured(adapter):
    try:
        return adapter.config_items()
    except QuickbiteError:
        return {}


def _address(adapter, settings, runtime, config):
    """(address or None, finding): where the backend connects, against where PostgreSQL listens."""
    env = runtime['env']
    found = _dbaddress.address(env)
    evidence = dict(backend=runtime['replica'], backend_env=_dbaddress.shown(env, runtime['origins'],
                                                                             _mask.DEFAULT_SECRET_KEYS))
    if runtime['replica'] is None:
        return None, skipped(SECTION, 'no %s container or pod runs, so its database address cannot be read'
                             % settings.backend_service, evidence)
    if found is None:
        return None, skipped(SECTION, '%s names no database (neither SPRING_DATASOURCE_URL nor DB_HOST/DB_PORT in its '
                             'environment)' % runtime['replica'], evidence)
    listen = settings.health.db.get('port')
    evidence.update(address='%s:%s' % (found['host'], found['port']), database=found['database'],
                    user=found['user'], password_fingerprint=found['password_fingerprint'], listens_on=listen)
    try:
        addresses = adapter.service_addresses(settings.db_service, listen)
    except QuickbiteError as exc:
        return found, skipped(SECTION, '%s connects to %s:%s; where %s is reached cannot be read: %s' % (
            runtime['replica'], found['host'], found['port'], settings.db_service, exc.msg), evidence)
    names = ['%s:%s' % pair for pair in addresses]
    evidence['reached_as'] = names
    wanted = (str(found['host']).lower(), str(found['port']))
    if any((host.lower(), str(port)) == wanted for host, port in addresses):
        return found, ok(SECTION, '%s connects to %s:%s, where PostgreSQL (%s, port %s) is reached' % (
            runtime['replica'], found['host'], found['port'], settings.db_service, listen), evidence)
    stale = _stale(env, config, found['keys'])
    evidence['differs_from_configuration'] = stale
    summary = '%s connects to %s:%s but PostgreSQL (%s) listens on port %s, reached as %s' % (
        runtime['replica'], found['host'], found['port'], settings.db_service, listen, ', '.join(names[:4]) or 'nothing')
    return found, problem(SECTION, summary, evidence, **_address_fix(settings, runtime, config, found, stale, addresses))


def _stale(env, config, keys):
    """The keys whose running value differs from the configuration's."""
    return sorted(k for k in keys if k in config and k in env and config[k] != env[k])


def _address_fix(settings, runtime, config, found, stale, addresses):
    if stale and _dbaddress.address(dict(runtime['env'], **dict((k, config[k]) for k in stale))) != found:
        moved = _dbaddress.address(dict(runtime['env'], **dict((k, config[k]) for k in stale)))
        if any((h.lower(), str(p)) == (str(moved['host']).lower(), str(moved['port'])) for h, p in addresses):
            return dict(fix='restart', fix_note='the configuration already says %s:%s (%s): recreate the backend so '
                        'it reads it again: %s' % (moved['host'], moved['port'], ', '.join(stale), _recreate(settings)))
    keys = [k for k in found['keys'] if k in config] or found['keys']
    if not [k for k in keys if k in config]:
        return dict(fix=None, fix_note='no playbook changes the %s workload\'s own environment: set %s to one of %s '
                    'in its definition (e.g. kubectl set env), then let it roll out' % (
                        settings.backend_service, '/'.join(keys), ', '.join('%s:%s' % a for a in addresses[:2])))
    return dict(fix=None, fix_note='no playbook sets %s: correct it in the configuration (env file or Secret) to one '
                'of %s, then run playbooks/restart.yml %s' % ('/'.join(keys), ', '.join(
                    '%s:%s' % a for a in addresses[:2]), _recreate(settings)))


def _credentials(settings, runtime, config, found):
    """The backend's own user, password and database tried against PostgreSQL
    where the health check reaches it (the health check's db check, with the
    backend's values): what the backend meets when it connects."""
    db = settings.health.db
    env = runtime['env']
    password = env.get('SPRING_DATASOURCE_PASSWORD', env.get('DB_PASSWORD'))
    evidence = dict(user=found['user'], database=found['database'], password_fingerprint=fingerprint(password),
                    configured_fingerprint=fingerprint(config.get('DB_PASSWORD')))
    if db.get('exec_service') or not found['user'] or not found['database']:
        return None, skipped(SECTION, 'the backend\'s own credentials are not tried from here (%s)' % (
            'the database is reached through exec (quickbite_db_access), which logs in without a password'
            if db.get('exec_service') else 'its environment names no user or database'), evidence)
    tried = health_checks.database(db['host'], db['port'], found['database'], found['user'], password,
                                   settings.health.request_timeout, db.get('sslmode') or 'prefer',
                                   db.get('sslrootcert'))
    words = settings.masker.text(tried['evidence'])
    if tried['status'] == 'UP':
        return None, ok(SECTION, 'the backend\'s credentials (user %s, password %s) log in to database %s' % (
            found['user'], fingerprint(password), found['database']), evidence)
    cause, dummy_words, dummy_line = _dbaddress.classify([words])
    if cause not in ('password', 'database'):
        return None, skipped(SECTION, 'the backend\'s credentials could not be tried: %s' % words, evidence)
    what = 'are refused: password authentication failed' if cause == 'password' else \
        'name a database that does not exist (%s)' % found['database']
    return cause, problem(SECTION, 'the backend\'s credentials (user %s, password %s) %s' % (
        found['user'], fingerprint(password), what), dict(evidence, answer=words),
        **_cause_fix(settings, cause, runtime, config))


def _tcp_connect(adapter, settings, found):
    """A TCP connect executed inside the backend's container or pod."""
    target = '%s:%s' % (found['host'], found['port'])
    timeout = max(1, int(settings.health.request_timeout))
    try:
        spawn = adapter.exec_spawn(settings.backend_service)
        code, out, err = exec_checks.run(spawn, ['python3', '-c', PY_CONNECT, str(found['host']), str(found['port']),
                                                 str(timeout)], None, timeout + 5)
        program = 'python3'
        if code in NOT_FOUND:
            code, out, err = exec_checks.run(spawn, ['bash', '-c', BASH_CONNECT, str(found['host']),
                                                     str(found['port'])], None, timeout + 5)
            program = 'bash /dev/tcp'
    except (OSError, QuickbiteError) as exc:
        return skipped(SECTION, 'cannot run a TCP connect inside %s: %s' % (
            settings.backend_service, getattr(exc, 'msg', exc)), dict(target=target))
    said = settings.masker.text((out.strip() or err.strip() or 'exit code %s' % code).splitlines()[-1])
    evidence = dict(target=target, program=program, exit_code=code, output=said)
    if code in NOT_FOUND:
        return skipped(SECTION, 'neither python3 nor bash runs inside %s to test a TCP connect (%s)' % (
            settings.backend_service, said), evidence)
    # The connect reports its own failure (python3 on stdout, bash naming /dev/tcp): anything else
    # is the exec that failed (refused by the API server, killed), not the connection.
    ran = bool(out.strip()) if program == 'python3' else ('/dev/tcp' in err or 'connected' in out)
    if code not in (0, 1, None) or (code == 1 and not ran):
        return skipped(SECTION, 'the TCP connect inside %s could not run (exit code %s): %s' % (
            settings.backend_service, code, said), evidence)
    if code == 0:
        return ok(SECTION, 'TCP connect from inside %s to %s: %s' % (settings.backend_service, target, said), evidence)
    if code is None:
        said = 'no answer within %d s' % (timeout + 5)
    return problem(SECTION, 'TCP connect from inside %s to %s failed: %s' % (settings.backend_service, target, said),
                   dict(evidence, output=said), fix=None, fix_note='see the database and address findings above')


def _backend_evidence(adapter, settings):
    """The backend's state with its last end (adapter.incident_state, as the
    incident's services probe reads it) and, unless it runs and is ready, its
    last log lines, masked (a healthy backend's old lines say nothing now)."""
    state = adapter.incident_state([settings.backend_service])['services'][0]
    lines = []
    if state['ok'] and not any(r.get('oom_killed') for r in state['replicas']):
        return state, lines
    for entry in adapter.logs(settings.backend_service, tail=LOG_TAIL):
        lines.extend(entry['lines'])
    return state, settings.masker.lines(lines)


def _last_end(settings, runtime, config, backend, known=None):
    """The backend's state, last exit and log lines (``backend``:
    _backend_evidence) classified; ``known``: a cause the backend's own
    credentials showed, which a vaguer log line (a retry that says only
    "refused or failed") does not override."""
    state, lines = backend
    reps = state['replicas']
    oom = [r['name'] for r in reps if r.get('oom_killed')]
    cause, words, line = _dbaddress.classify(lines)
    if known and cause in (None, 'refused'):
        cause, words = known, dict((c, w) for c, dummy, w in _dbaddress.CAUSES)[known]
        line = (line or '') + ' (the backend\'s credentials: %s)' % words
    dummy, errors = logsummary.summarize([(settings.backend_service, lines)], limit=3)
    exits = ', '.join('%s %s (exit %s, %d restart(s))' % (r['name'], r['state'], r['exit_code'], r['restart_count'])
                      for r in reps) or 'no container or pod'
    evidence = dict(replicas=reps, problems=state['problems'], cause=cause, line=line, oom_killed=oom,
                    log_errors=errors)
    if state['ok'] and not oom:
        return ok(SECTION, '%s runs and is ready: %s' % (settings.backend_service, exits), evidence)
    if oom:
        return problem(SECTION, '%s was OOMKilled (%s): it needs more memory than its limit' % (
            ', '.join(oom), exits), dict(evidence, cause='oom'), fix=None,
            fix_note='raise the memory limit: playbooks/scale.yml with scale_resources (Kubernetes), or '
                     'deploy.resources.limits.memory in the compose file')
    if cause is None:
        return problem(SECTION, '%s is not running and ready: %s; no log line names a cause' % (
            settings.backend_service, exits), evidence, fix=None, fix_note='read playbooks/logs.yml\'s output')
    return problem(SECTION, '%s is not running and ready (%s): %s, log: %s' % (
        settings.backend_service, exits, words, line[:300]), evidence, **_cause_fix(settings, cause, runtime, config))


def _cause_fix(settings, cause, runtime, config):
    if cause == 'flyway':
        return dict(fix='flyway_repair', fix_note='it backs up and deletes the failed rows of flyway_schema_history, '
                    'then restarts the backend')
    if cause == 'password':
        env = runtime['env']
        running = env.get('SPRING_DATASOURCE_PASSWORD', env.get('DB_PASSWORD'))
        if running is not None and config.get('DB_PASSWORD') and fingerprint(running) != fingerprint(
                config['DB_PASSWORD']):
            return dict(fix='restart', fix_note='the backend runs with password %s, the configuration holds %s: '
                        'recreate it so it reads the configuration again: %s' % (
                            fingerprint(running), fingerprint(config['DB_PASSWORD']), _recreate(settings)))
        return dict(fix='rotate_db_password', fix_note='it sets a new password on the role and in the configuration '
                    'together, then recreates the backend')
    if cause == 'database':
        return dict(fix=None, fix_note='no playbook creates the database: check DB_NAME (or the URL) against the '
                    'databases PostgreSQL has, or restore it with playbooks/restore_db.yml')
    return dict(fix=None, fix_note='see the database and address findings above')


@registry.check('connection_refused', SECTION, limit=25, order=10)
def connection_refused(adapter, settings):
    started = time.monotonic()
    # What waits on other processes (the database, the Engine or API server, the
    # logs) is asked side by side; the address, login and connect follow each other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        database = pool.submit(_database_service, adapter, settings)
        backend = pool.submit(_backend_evidence, adapter, settings)
        findings, runtime, config, known = [], None, _configured(adapter), None
        try:
            runtime = adapter.runtime_env(settings.backend_service)
        except QuickbiteError as exc:
            findings.append(skipped(SECTION, 'cannot read the environment of %s: %s' % (
                settings.backend_service, exc.msg)))
        if runtime is not None:
            found, where = _address(adapter, settings, runtime, config)
            findings.append(where)
            if found is not None and runtime['replica'] is not None:
                known, login = _credentials(settings, runtime, config, found)
                findings.extend([login, _tcp_connect(adapter, settings, found)])
        findings.insert(0, database.result()[1])
        if runtime is not None:
            findings.append(_last_end(settings, runtime, config, backend.result(), known))
    for one in findings:
        one.evidence.setdefault('elapsed_ms', int((time.monotonic() - started) * 1000))
    return findings
