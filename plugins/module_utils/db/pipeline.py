# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming process pipelines (``pg_dump | zstd > file`` and the reverse),
run from argument lists, never a shell, with every stage's exit status
checked: the equivalent of ``set -o pipefail`` that shell scripts forget.

The last stage's output passes through this process in fixed-size blocks,
hashed on the way, so memory stays flat whatever the database size."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import resource
import select
import signal
import subprocess
import tempfile
import time

from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError

BUFSIZE = 1 << 20


class PipelineError(PlatformError):
    """A stage failed; ``msg`` names it with the last lines it printed."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived: unwind, kill the stages, remove partial output."""


def install_signal_handlers():
    """Turn SIGTERM/SIGINT/SIGHUP into Interrupted, so cleanup code runs when
    AWX cancels a job or cron's parent goes away."""
    def handler(signum, frame):
        raise Interrupted('stopped by signal %d' % signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, handler)


def popen(argv, stdin, stdout, stderr, env=None):
    """How a stage starts by default: a process on this host."""
    return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env, close_fds=True)


class Stage(object):
    """One program of a pipeline. ``spawn`` starts it (subprocess.Popen's
    signature and a Popen-like result): a process here by default; a
    platform adapter may run it elsewhere (a pod) behind the same interface."""

    def __init__(self, argv, env=None, label=None, spawn=None):
        self.argv = list(argv)
        self.env = env
        self.spawn = spawn or popen
        self.label = label or os.path.basename(self.argv[0])
        self.proc = None
        self.stderr = None
        self.returncode = None
        self.maxrss_kb = 0

    def sample_memory(self):
        """VmHWM, the peak RSS since exec. wait4's ru_maxrss cannot be used:
        Linux carries the forking parent's peak across exec into it."""
        if self.proc is None or self.returncode is not None or not getattr(self.proc, 'pid', None):
            return
        try:
            with open('/proc/%d/status' % self.proc.pid, 'rb') as handle:
                for line in handle:
                    if line.startswith(b'VmHWM:'):
                        self.maxrss_kb = max(self.maxrss_kb, int(line.split()[1]))
                        return
        except (IOError, OSError, ValueError):
            pass

    def start(self, stdin):
        """Start with ``stdin`` (a file, or DEVNULL); returns the stdout to read."""
        self.stderr = tempfile.TemporaryFile()
        self.proc = self.spawn(self.argv, stdin, subprocess.PIPE, self.stderr, env=self.env)
        return self.proc.stdout

    def tail(self, lines=5):
        if self.stderr is None:
            return ''
        self.stderr.seek(0, os.SEEK_END)
        size = self.stderr.tell()
        self.stderr.seek(max(0, size - 4096))
        text = self.stderr.read().decode('utf-8', 'replace')
        return ' | '.join(line.strip() for line in text.strip().splitlines()[-lines:])

    def reap(self):
        if self.proc is None or self.returncode is not None:
            return
        self.sample_memory()
        self.returncode = self.proc.wait()


class Pipeline(object):
    """Stages connected stdout to stdin; ``source`` (a path) feeds the first
    stage, the last stage's stdout comes back through ``relay_to``."""

    def __init__(self, stages, source=None):
        self.stages = stages
        self.source = source
        self.started = None
        self.duration = None

    def start(self):
        self.started = time.time()
        upstream = open(self.source, 'rb') if self.source else subprocess.DEVNULL
        try:
            for index, stage in enumerate(self.stages):
                out = stage.start(upstream)
                if index or self.source:
                    upstream.close()
                upstream = out
        except OSError as exc:
            self.kill()
            raise PipelineError('cannot run %s: %s' % (stage.argv[0], exc.strerror))
        return upstream

    def failed_early(self):
        """A stage before the last that has ended with a failure, or None:
        what the stages after it still do is wasted (zstd -19 took minutes
        finishing the compression of a dump whose pg_dump had already failed)."""
        for stage in self.stages[:-1]:
            if stage.proc is not None and stage.returncode is None and stage.proc.poll() not in (None, 0):
                return stage
        return None

    def relay_to(self, fd):
        """Copy the last stage's output to ``fd``; returns (bytes, sha256 hex).
        Stops early, killing the stages still running, once a stage before
        the last has failed: wait() then names that stage."""
        out = self.start()
        digest = hashlib.sha256()
        total = 0
        sampled = 0
        ready = _poller(out)
        while True:
            now = time.time()
            if now - sampled > 0.25:
                sampled = now
                for stage in self.stages:
                    stage.sample_memory()
                if self.failed_early() is not None:
                    self.kill()
                    break
            if ready is not None and not ready(250):
                continue
            block = out.read1(BUFSIZE) if hasattr(out, 'read1') else out.read(BUFSIZE)
            if not block:
                break
            digest.update(block)
            total += len(block)
            view = memoryview(block)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        out.close()
        return total, digest.hexdigest()

    def wait(self):
        """Reap every stage; raise PipelineError naming the first that failed
        (a stage killed by SIGPIPE is reported after the one that broke the pipe)."""
        for stage in self.stages:
            stage.reap()
        self.duration = time.time() - self.started
        failed = [s for s in self.stages if s.returncode != 0]
        if failed:
            failed.sort(key=lambda s: s.returncode == -signal.SIGPIPE)
            first = failed[0]
            raise PipelineError('%s failed (exit %s): %s' % (first.label, first.returncode,
                                                             first.tail() or 'no message'),
                                stages=self.report())

    def kill(self):
        for stage in self.stages:
            if stage.proc is not None and stage.returncode is None:
                try:
                    stage.proc.kill()
                except OSError:
                    pass
                stage.reap()

    def report(self):
        return [dict(program=s.label, exit=s.returncode, max_rss_mb=round(s.maxrss_kb / 1024.0, 1))
                for s in self.stages]


def _poller(out):
    """poll(2) on ``out`` for up to N ms (select() fails above fd 1023), or
    None when it has no descriptor (then reads block)."""
    try:
        fileno = out.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLHUP | select.POLLERR)
    return poller.poll


def own_peak_rss_mb():
    """Peak RSS of this (the module's) process in MB (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def run_checked(argv, env=None, timeout=None, stdin=None):
    """Run a short command; (rc, stdout, stderr) with text decoded."""
    try:
        proc = subprocess.run(argv, env=env, stdin=stdin or subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except OSError as exc:
        raise PipelineError('cannot run %s: %s' % (argv[0], exc.strerror))
    except subprocess.TimeoutExpired:
        raise PipelineError('%s did not finish within %ss' % (argv[0], timeout))
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')
