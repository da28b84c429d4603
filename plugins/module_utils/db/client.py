# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where PostgreSQL's programs and SQL run, as the inventory says
(``quickbite_db_access``):

- ``libpq``: on the host that runs the module, through libpq to
  ``db_host:db_port`` (password and TLS settings in PG* variables, never argv);
- ``exec``: inside the postgres container (Compose: ``docker compose exec -T
  --user postgres``) or pod (Kubernetes: the API server's exec), over its
  local socket as postgres. The data still streams through this host:
  compression, checksums and files stay here.

Either way a database name reaches a program only as ``--dbname=dbname='<name>'``
(connection.dbname_arg()): libpq never reads the name itself as a
connection string."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.quickbite.ops.plugins.module_utils.db.connection import dbname_arg
from ansible_collections.quickbite.ops.plugins.module_utils.db.pipeline import Stage
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError


class Client(object):
    def __init__(self, target, admin=None, pg_bin_dir=None, spawn=None, exec_timeout=600):
        self.target = target
        self.admin_target = admin
        self.pg_bin_dir = pg_bin_dir
        # spawn(argv, stdin, stdout, stderr, env=None) -> Popen-like, running argv
        # inside the database container or pod; None: programs run on this host.
        self.spawn = spawn
        # Seconds each SQL statement of a psql session in the container may take.
        self.exec_timeout = exec_timeout

    @property
    def in_container(self):
        return self.spawn is not None

    def stage(self, program, args, dbname=None, as_admin=False, label=None):
        """A pipeline stage running ``program`` connected to ``dbname`` (no
        connection when None, as for ``pg_restore --list``)."""
        if self.in_container:
            argv = [program]
            if dbname:
                argv += ['--port=%d' % self.target.port, '--username=postgres', dbname_arg(dbname)]
            return Stage(argv + list(args), label=label or program, spawn=self.spawn)
        binary = os.path.join(self.pg_bin_dir, program) if self.pg_bin_dir else program
        if not dbname:
            return Stage([binary] + list(args), label=label or program)
        target = self.admin_target if as_admin else self.target
        return Stage([binary, dbname_arg(dbname)] + list(args), env=target.env(dbname), label=label or program)

    def snapshot(self):
        if self.in_container:
            from ansible_collections.quickbite.ops.plugins.module_utils.db.exec_sql import ExecSnapshot
            return ExecSnapshot(self.spawn, self.target.port, self.target.dbname, self.exec_timeout)
        from ansible_collections.quickbite.ops.plugins.module_utils.db.snapshot import Snapshot
        return Snapshot(self.target)

    def admin(self):
        if self.in_container:
            from ansible_collections.quickbite.ops.plugins.module_utils.db.exec_sql import ExecAdmin
            return ExecAdmin(self.spawn, self.target.port, self.target.user, timeout=self.exec_timeout)
        from ansible_collections.quickbite.ops.plugins.module_utils.db.loading import Admin
        return Admin(self.admin_target, self.target.user)

    def require_files_here(self, what):
        if self.in_container:
            raise ConfigError('%s needs the PostgreSQL programs on this host: the directory format is written and '
                              'read by pg_dump/pg_restore themselves; set quickbite_db_access to libpq or use the '
                              'custom or plain format' % what)


def access_argument_spec():
    """Documented in the quickbite.ops.database_access doc fragment; keep both in step."""
    return dict(
        access=dict(type='str', default='libpq', choices=['libpq', 'exec']),
        db_service=dict(type='str', default='postgres'),
        pg_bin_dir=dict(type='path'),
        exec_timeout=dict(type='int', default=600),
    )


def make_client(module, adapter, target, admin=None):
    """The client for the module's ``access`` option; ``adapter`` is a LazyAdapter."""
    p = module.params
    timeout = 600 if p.get('exec_timeout') is None else p['exec_timeout']
    if timeout < 1:
        raise ConfigError('quickbite_db_exec_timeout (option exec_timeout) is %s: it must be at least 1 second; '
                          'leave it unset for 600' % timeout)
    spawn = None
    if p.get('access') == 'exec':
        spawn = adapter.get().exec_spawn(p['db_service'], user='postgres')
    return Client(target, admin, p.get('pg_bin_dir'), spawn, timeout)
