# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Artefacts that must outlive the job (backups, log bundles, the rotation
audit log): refuse a destination this run knows to be thrown away with it.

On Kubernetes the modules run on the controller, which under AWX is an
execution-environment container: its own filesystem, ``/runner`` (the
private data directory ansible-runner mounts) and ``/tmp`` are gone when the
job ends. Such a run is recognised as ansible-runner and AWX show it: the
``/runner`` directory, or AWX's job environment (``AWX_*``, ``JOB_ID`` with
``INVENTORY_ID``). There a destination is kept only when it lies on a
volume mounted into the container (a mount point other than ``/`` and
``/runner``, read from ``/proc/self/mountinfo``): a PersistentVolumeClaim or
host path the container group's pod spec mounts. Elsewhere (a workstation, a
bastion, the Compose host over SSH) nothing is refused."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

RUNNER_DIR = '/runner'
EPHEMERAL_MOUNTS = ('/', RUNNER_DIR, '/tmp', '/var/tmp')


def in_execution_environment(environ=None, runner_dir=RUNNER_DIR):
    """What shows this run is in an ansible-runner/AWX execution environment (None: nothing)."""
    environ = os.environ if environ is None else environ
    if os.path.isdir(runner_dir):
        return 'an ansible-runner execution environment (%s exists)' % runner_dir
    awx = sorted(key for key in environ if key.startswith('AWX_'))
    if awx or ('JOB_ID' in environ and 'INVENTORY_ID' in environ):
        return 'an AWX job (%s in the environment)' % ', '.join(awx or ['JOB_ID', 'INVENTORY_ID'])
    return None


def mount_points(mountinfo='/proc/self/mountinfo'):
    points = []
    try:
        with open(mountinfo) as handle:
            for line in handle:
                fields = line.split()
                if len(fields) > 4:
                    points.append(fields[4].replace('\\040', ' '))
    except (IOError, OSError):
        pass
    return points


def mount_of(path, points):
    """The mount point ``path`` lies on (the longest one containing it)."""
    path = os.path.realpath(os.path.abspath(path))
    best = '/'
    for point in points:
        if (path == point or path.startswith(point.rstrip('/') + '/')) and len(point) > len(best):
            best = point
    return best


def refuse_ephemeral(path, what, variable, allow_variable, allow=False, environ=None, runner_dir=RUNNER_DIR,
                     mountinfo='/proc/self/mountinfo'):
    """ConfigError when ``path`` would be lost with this run, unless ``allow``."""
    if allow:
        return
    where = in_execution_environment(environ, runner_dir)
    if where is None:
        return
    mount = mount_of(path, mount_points(mountinfo))
    if mount not in EPHEMERAL_MOUNTS and not mount.startswith(RUNNER_DIR + '/'):
        return
    raise ConfigError(
        'refusing to write %s to %s: this run is %s, whose filesystem is thrown away when the job ends (%s is on '
        '%s, not on a mounted volume); nothing was written. Set %s to a path on a volume the execution environment '
        'mounts (a PersistentVolumeClaim or host path in the container group\'s pod spec) or on a host that keeps '
        'it, or set %s=true to write there anyway' % (what, path, where, path,
                                                      'the container\'s own filesystem' if mount == '/' else mount,
                                                      variable, allow_variable))
