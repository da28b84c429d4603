# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commands run inside the frontend's container or pod through the
adapter's exec_spawn() (Compose ``exec -T``, Kubernetes pod exec): ``nginx
-T`` (the configuration it runs), ``nginx -t``, ``nginx -s reload``, and
reading its document root. Argument lists only, never a shell string."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import nginx_config
from ansible_collections.quickbite.ops.plugins.module_utils.errors import PlatformError, QuickbiteError
from ansible_collections.quickbite.ops.plugins.module_utils.health.exec_checks import run


class Frontend(object):
    """The nginx of ``service`` on ``adapter``; every command is bounded by ``timeout`` seconds."""

    def __init__(self, adapter, service='frontend', timeout=10):
        self.adapter = adapter
        self.service = service
        self.timeout = max(1, int(timeout))
        self._spawn = None
        self.where = 'service %s of %s' % (service, adapter.describe())

    def spawner(self):
        """The adapter's exec starter for the frontend (made once; call it
        before running commands from several threads)."""
        if self._spawn is None:
            self._spawn = self.adapter.exec_spawn(self.service)
        return self._spawn

    def run(self, argv):
        """(exit code, stdout, stderr) of ``argv`` inside the frontend; exit
        code None when it did not end within the timeout."""
        spawn = self.spawner()
        try:
            return run(spawn, argv, None, self.timeout)
        except OSError as exc:
            raise PlatformError('cannot run %s in %s: %s' % (argv[0], self.where, exc))

    def _checked(self, argv, what):
        code, out, err = self.run(argv)
        if code != 0:
            why = 'it did not answer within %d s' % self.timeout if code is None else \
                (err.strip() or out.strip() or 'exit code %s' % code)
            raise PlatformError('%s in %s failed: %s' % (what, self.where, why), exit_code=code)
        return out, err

    def dump(self):
        """The text of ``nginx -T``: every file of the configuration nginx would load now."""
        out, dummy = self._checked(['nginx', '-T', '-q'], 'nginx -T')
        return out

    def config(self):
        """nginx_config.NginxConfig of what the frontend runs (``nginx -T``)."""
        return nginx_config.parse_dump(self.dump())

    def test(self):
        """(ok, nginx -t output) of the configuration on disk."""
        code, out, err = self.run(['nginx', '-t'])
        text = '\n'.join(part.strip() for part in (err, out) if part.strip())
        return code == 0, text or ('exit code %s' % code)

    def reload(self):
        self._checked(['nginx', '-s', 'reload'], 'nginx -s reload')

    def listdir(self, path):
        """Names in directory ``path`` (``ls -1A``), or None when it cannot be listed (with why)."""
        code, out, err = self.run(['ls', '-1A', '--', path])
        if code != 0:
            return None, err.strip() or 'exit code %s' % code
        return [line for line in out.splitlines() if line], None

    def read(self, path):
        """(text of file ``path``, None), or (None, why)."""
        code, out, err = self.run(['cat', '--', path])
        if code != 0:
            return None, err.strip() or 'exit code %s' % code
        return out, None


def safe_config(frontend):
    """(NginxConfig, None), or (None, why) when nginx -T cannot run or its output does not parse."""
    try:
        return frontend.config(), None
    except QuickbiteError as exc:
        return None, exc.msg
