"""The "API server that never answers" fault, mixed into ``core.Emulator``.

``set_hang(pattern=None, on=True, methods=None)``: requests whose path
matches the regular expression ``pattern`` (``re.match``; None: every API
path) and, if given, one of ``methods`` are accepted, their body read, and
then nothing is sent: the connection stays open until the fault is switched
off or the server stops, and is then closed without an answer (as a dead
server behind a load balancer does).  ``/_emulator`` control paths never hang.
``hung`` counts the requests held so far.
"""

import re
import threading


class HangFault(object):
    """Mixin for ``core.Emulator``."""

    def _init_hang(self):
        self._hangs = []                 # [(compiled regex or None, frozenset of methods or None)]
        self._hang_changed = threading.Condition(threading.Lock())
        self.hung = 0

    def set_hang(self, pattern=None, on=True, methods=None):
        with self._hang_changed:
            key = (pattern, frozenset(m.upper() for m in methods) if methods else None)
            self._hangs = [h for h in self._hangs if (h[0] and h[0].pattern, h[1]) != key]
            if on:
                self._hangs.append((re.compile(pattern) if pattern else None, key[1]))
            self._hang_changed.notify_all()

    def _hang_matches(self, method, path):
        return any((rx is None or rx.match(path)) and (ms is None or method in ms) for rx, ms in self._hangs)

    def hold_if_hung(self, method, path, stopped):
        """Block while a hang fault matches this request; True if it was held (answer nothing)."""
        with self._hang_changed:
            if not self._hang_matches(method, path):
                return False
            self.hung += 1
            while self._hang_matches(method, path) and not stopped.is_set():
                self._hang_changed.wait(0.2)
            return True
