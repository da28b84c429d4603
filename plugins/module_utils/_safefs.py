# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way this collection writes files: into a directory whose owner and
mode were checked (OpenSSH's StrictModes), relative to that directory's
descriptor, new files with O_CREAT|O_EXCL|O_NOFOLLOW, replacements by rename,
reads with O_NOFOLLOW. A symlink or file that someone else planted is never
followed and never written through. The Compose project's own directory
(its env file) is used as the deployment has it (``check=False``): same
writes, no owner/mode refusal.

    with SafeDir('/opt/quickbite/backups', 'backup_db_dest_dir') as d:
        d.write_atomic('x.manifest.json', data)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat

from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)


class UnsafePathError(ConfigError):
    """A directory or file another user could have changed or planted."""


def owner_name(uid):
    """The user name of ``uid`` for messages (``uid N`` when it has none)."""
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return 'uid %d' % uid


def _problem(st, own_only):
    """Why a directory with stat ``st`` is unsafe to write into, or None."""
    me = os.geteuid()
    owners = (me,) if own_only else (me, 0)
    if st.st_uid not in owners:
        return 'owned by %s, not by %s' % (owner_name(st.st_uid), owner_name(me))
    if st.st_mode & 0o022 and not (not own_only and st.st_mode & stat.S_ISVTX):
        return 'writable by group or others'
    return None


def check_dir(path, var, st=None):
    """Refuse ``path`` (a directory, given by the variable ``var``) unless the
    running user owns it and nobody else can write it, and every directory
    above it is owned by root or that user and not writable by others (a
    sticky directory such as /tmp is fine above, never as the directory)."""
    path = os.path.abspath(path)
    st = st or os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError('refusing to write into %s %s: it is %s, not a directory; set %s to a real directory '
                              'owned by the user running the procedure (mode 0700)'
                              % (var, path, 'a symlink' if stat.S_ISLNK(st.st_mode) else 'not a directory', var))
    why = _problem(st, own_only=True)
    if why:
        raise UnsafePathError(
            'refusing to write into %s %s (mode %04o): it is %s, so another user could plant a symlink or file there '
            'that this run (as %s) would follow; run `chown %s %s && chmod 0700 %s`, or set %s to a directory owned '
            'by %s with mode 0700' % (var, path, stat.S_IMODE(st.st_mode), why, owner_name(os.geteuid()),
                                      owner_name(os.geteuid()), path, path, var, owner_name(os.geteuid())), path=path,
            mode='%04o' % stat.S_IMODE(st.st_mode))
    parent = os.path.dirname(path)
    while parent and parent != path:
        pst = os.stat(parent)
        why = _problem(pst, own_only=False)
        if why:
            raise UnsafePathError(
                'refusing to write into %s %s: the directory above it, %s (mode %04o), is %s, so another user could '
                'swap %s for something else; fix that directory (chown root, chmod go-w) or set %s to a directory '
                'below safe ones' % (var, path, parent, stat.S_IMODE(pst.st_mode), why, path, var), path=parent,
                mode='%04o' % stat.S_IMODE(pst.st_mode))
        path, parent = parent, os.path.dirname(parent)


def ensure_dir(path, var, mode=0o700):
    """Create ``path`` (and missing parents) with ``mode`` when absent, then
    check it as check_dir does; returns the absolute path."""
    path = os.path.abspath(path)
    if not os.path.lexists(path):
        try:
            os.makedirs(path, mode)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise ConfigError('cannot create %s %s: %s; create it (owned by %s, mode %04o) or set %s to a '
                                  'directory the running user can write' % (var, path, exc.strerror,
                                                                            owner_name(os.geteuid()), mode, var))
    check_dir(path, var)
    return path


class SafeDir(object):
    """A checked directory, held open: every name is resolved against its
    descriptor, so a directory swapped after the check is not used."""

    def __init__(self, path, var, create=True, mode=0o700, check=True):
        self.path = os.path.abspath(path)
        self.var = var
        self.make, self.mode = create, mode
        # check=False: a directory of the deployment itself (the Compose
        # project's, holding its env file), used as it is, whoever owns it.
        self.check = check
        self.fd = None

    def open(self):
        if self.make:
            ensure_dir(self.path, self.var, self.mode)
        try:
            self.fd = os.open(self.path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            raise UnsafePathError('cannot open %s %s: %s; set %s to a real directory owned by %s (mode 0700)'
                                  % (self.var, self.path, exc.strerror, self.var, owner_name(os.geteuid())))
        try:
            if self.check:
                check_dir(self.path, self.var, os.fstat(self.fd))
        except Exception:
            self.close()
            raise
        return self

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()
        return False

    def join(self, name):
        return os.path.join(self.path, name)

    def _name(self, name):
        if not name or '/' in name or name in ('.', '..'):
            raise ConfigError('internal: %r is not a plain file name' % name)
        return name

    def _refuse_file(self, name, why):
        raise UnsafePathError('refusing to use %s: %s; remove it (it was not written by this collection, or was '
                              'changed since) and run again' % (self.join(name), why), path=self.join(name))

    def _check_file(self, fd, name):
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            self._refuse_file(name, 'it is not a regular file')
        if st.st_uid != os.geteuid() or st.st_nlink > 1:
            os.close(fd)
            self._refuse_file(name, 'it is owned by %s or has other hard links (%d)' % (owner_name(st.st_uid), st.st_nlink))
        return fd

    def _open(self, name, flags, mode=0o600):
        name = self._name(name)
        try:
            return os.open(name, flags | _NOFOLLOW | _CLOEXEC, mode, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._refuse_file(name, 'it is a symlink')
            if exc.errno == errno.EEXIST:
                self._refuse_file(name, 'it exists already (a file of the same name was planted or left behind)')
            raise

    def create(self, name, mode=0o600):
        """A new file, opened for writing; refused if the name exists at all."""
        return self._open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def open_rw(self, name, mode=0o600):
        """Create or open a regular file of ours (lock files), never a symlink."""
        return self._check_file(self._open(name, os.O_RDWR | os.O_CREAT, mode), name)

    def append(self, name, mode=0o600):
        """Open for appending (audit logs): created when absent, refused when
        it is a symlink, not a regular file, someone else's, or hard-linked."""
        return self._check_file(self._open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode), name)

    def read_bytes(self, name):
        fd = self._open(name, os.O_RDONLY)
        with os.fdopen(fd, 'rb') as handle:
            return handle.read()

    def exists(self, name):
        try:
            os.stat(self._name(name), dir_fd=self.fd, follow_symlinks=False)
            return True
        except OSError:
            return False

    def unlink(self, name, missing_ok=True):
        try:
            os.unlink(self._name(name), dir_fd=self.fd)
        except OSError as exc:
            if exc.errno != errno.ENOENT or not missing_ok:
                raise

    def rename(self, src, dst):
        """Atomic; a symlink at ``dst`` is replaced, never followed."""
        os.rename(self._name(src), self._name(dst), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def fsync(self):
        os.fsync(self.fd)

    def write_new(self, name, data, mode=0o600, owner=None):
        """Write ``data`` (bytes or text) into a new file ``name``, fsynced;
        ``owner``: (uid, gid) to give it."""
        fd = self.create(name, mode)
        try:
            if owner is not None:
                os.fchown(fd, owner[0], owner[1])
            os.fchmod(fd, mode)
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _remove_stale_tmp(self, name):
        """Temporary files of ``name`` left by runs that were killed (their
        pid gone, or this very pid reused): names in our checked directory."""
        prefix = '.%s.' % name
        for entry in os.listdir(self.fd):
            pid = entry[len(prefix):-len('.tmp')] if entry.startswith(prefix) and entry.endswith('.tmp') else ''
            if pid.isdigit() and (int(pid) == os.getpid() or not os.path.exists('/proc/%s' % pid)):
                self.unlink(entry)

    def write_atomic(self, name, data, mode=0o600, owner=None):
        """Replace ``name`` with ``data``: written to a new temporary file
        (O_EXCL), fsynced, renamed over ``name``, the directory fsynced."""
        tmp = '.%s.%d.tmp' % (self._name(name), os.getpid())
        self._remove_stale_tmp(name)
        self.write_new(tmp, data, mode, owner)
        try:
            self.rename(tmp, name)
        except BaseException:
            self.unlink(tmp)
            raise
        self.fsync()


def _write_all(fd, data):
    view = memoryview(data.encode('utf-8') if not isinstance(data, bytes) else data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_atomic(path, data, var, mode=0o600, create_dir=True):
    """``path`` replaced with ``data`` inside its checked directory."""
    with SafeDir(os.path.dirname(os.path.abspath(path)), var, create=create_dir) as directory:
        directory.write_atomic(os.path.basename(path), data, mode)


def open_nofollow(path, binary=True):
    """Open an existing file for reading without following a final symlink."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    return os.fdopen(fd, 'rb' if binary else 'r')
