# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a plain SQL backup hold anything psql would run as a meta-command?

psql runs every backslash command it meets outside quotes, comments and
COPY data (``\\! cmd`` runs a shell command as the user running psql). This
reads the decompressed dump as a stream, with psql's own lexical rules
(fe_utils/psqlscan.l of PostgreSQL 15: strings, quoted identifiers, dollar
quotes, nested comments, the parentheses and BEGIN ATOMIC depth that decide
where a statement ends), and refuses:

- a backslash outside quotes, comments and the data of a ``COPY ... FROM
  stdin;`` block (which ends at a line ``\\.``), except pg_dump's own
  ``\\restrict <key>`` before any SQL and ``\\unrestrict <key>`` (the same
  key) with nothing after it;
- a ``'...'`` literal whose end depends on standard_conforming_strings (a
  backslash before a quote), so no setting the dump makes can move a string
  end past this scan;
- text after ``COPY ... FROM stdin;`` on the same line, a psql variable
  reference (``:NAME``, substituted and lexed again), and ``\\unrestrict``
  anywhere else in the stream, COPY data included (psql's own \\restrict
  guard then holds even where an encoding trick hid a line from this scan).

Memory stays flat: COPY data is searched for its end marker only, the rest
is kept until a token is complete (at most MAX_TOKEN bytes)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

MAX_TOKEN = 16 << 20

_INIT, _COMMENT, _LINE_COMMENT, _STRING, _IDENT, _DOLLAR, _COPY = range(7)
# The two ways psql may read a '...' literal: standard (only '' escapes a
# quote) and escape (a backslash escapes the next character).
_IN, _QUOTE, _BACKSLASH, _CLOSED = range(4)
_EITHER, _STANDARD, _ESCAPE = range(3)

_SPACE = re.compile(br'[ \t\n\r\f]+')
_IDENTIFIER = re.compile(br'[A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9$]*')
_NUMBER = re.compile(br'[0-9]+\.\.|(?:[0-9]*\.[0-9]+|[0-9]+\.?[0-9]*)(?:[Ee][-+]?[0-9]+)?')
_DOLQ_DELIM = re.compile(br'\$(?:[A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9]*)?\$')
_DOLQ_FAILED = re.compile(br'\$[A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9]*')
_PARAM = re.compile(br'\$[0-9]+')
_VARIABLE = re.compile(br""":(?:'[A-Za-z\x80-\xff_0-9]+'|"[A-Za-z\x80-\xff_0-9]+"|\{\?[A-Za-z\x80-\xff_0-9]+\}"""
                       br"""|[A-Za-z\x80-\xff_0-9]+)""")
_COMMENT_MARK = re.compile(br'/\*|\*+/')
_STRING_MARK = re.compile(br"['\\]")
_NEWLINE = re.compile(br'[\n\r]')
_RESTRICT = re.compile(br'\\(restrict|unrestrict)[ \t]+([A-Za-z0-9]+)[ \t\r]*$')
_UNRESTRICT = b'\\unrestrict'
_FUNCTION_WORDS = (b'create', b'function', b'procedure', b'or', b'replace')


def find_line_start(buf, needle, start=0, tries=8):
    """``buf.find(b'\\n' + needle, start)`` for a ``needle`` that begins with
    a backslash (COPY's end marker ``\\.``), faster: backslashes are rare in
    COPY data (five in the 750 MB benchmark dump), so they are looked
    for first, at memchr speed; after ``tries`` that begin no such line (data
    full of ``\\N``, say) bytes.find takes over."""
    at = buf.find(b'\\', start + 1)
    while at >= 0:
        if buf[at - 1:at] == b'\n' and buf.startswith(needle, at):
            return at - 1
        tries -= 1
        if not tries:
            return buf.find(b'\n' + needle, at)
        at = buf.find(b'\\', at + 1)
    return -1


class UnsafeDump(Exception):
    """What psql would do with the dump that this collection refuses; ``line`` is 1-based."""

    def __init__(self, what, line, text=b''):
        shown = text[:80].decode('utf-8', 'replace')
        shown = ''.join(ch if ch.isprintable() else '\\x%02x' % ord(ch) if ord(ch) < 256 else '?' for ch in shown)
        super(UnsafeDump, self).__init__('%s at line %d%s' % (what, line, (': %s' % shown) if shown else ''))
        self.what, self.line, self.text = what, line, shown


class Scanner(object):
    """Feed the decompressed dump with feed(); finish() at its end returns a
    summary (``restrict_key``: the dump's own key or None, ``copy_blocks``,
    ``lines``). Both raise UnsafeDump."""

    def __init__(self):
        self.buf = b''
        self.pos = 0
        self.eof = False
        self.lines_before = 0
        self.state = _INIT
        self.depth = 0            # nested /* */ comments
        self.quote = None         # (standard, escape) states inside '...'
        self.dollar_tag = b''
        self.copy_at_line_start = False
        self.paren = 0
        self.begin = 0
        self.idents = [b'', b'', b'', b'']
        self.ident_count = 0
        self.first_word = None    # the statement's first token (an identifier, lowercased) or b''
        self.after_from = False
        self.from_stdin = False
        self.copy_next = False    # a COPY ... FROM stdin; ended: its data starts with the next line
        self.tokens_seen = False
        self.restrict_key = None
        self.unrestricted = False
        self.copy_blocks = 0
        self.raw_tail = b''
        self.raw_unrestrict = 0

    # -- input ------------------------------------------------------------------
    def feed(self, data):
        if not data:
            return
        if data.find(b'\\') >= 0 or self.raw_tail.find(b'\\') >= 0:  # memchr first: most blocks hold none
            window = self.raw_tail + data
            self.raw_unrestrict += window.count(_UNRESTRICT)
        keep = len(_UNRESTRICT) - 1
        self.raw_tail = data[-keep:] if len(data) >= keep else (self.raw_tail + data)[-keep:]
        if self.pos >= len(self.buf):
            self.lines_before += self.buf.count(b'\n')
            self.buf, self.pos = data, 0
        else:
            if self.pos:
                self.lines_before += self.buf.count(b'\n', 0, self.pos)
            self.buf = self.buf[self.pos:] + data
            self.pos = 0
        self._run()
        if len(self.buf) - self.pos > MAX_TOKEN:
            self._refuse('a single token of more than %d MB outside COPY data' % (MAX_TOKEN >> 20), self.pos)

    def finish(self):
        self.eof = True
        self._run()
        if self.raw_unrestrict != (1 if self.unrestricted else 0):
            raise UnsafeDump('"\\unrestrict" appears %d time(s) in the dump, where pg_dump writes it once, as the '
                             'last line, to end its own \\restrict' % self.raw_unrestrict,
                             self.lines_before + self.buf.count(b'\n') + 1)
        return dict(restrict_key=self.restrict_key.decode('ascii') if self.restrict_key else None,
                    copy_blocks=self.copy_blocks, lines=self.lines_before + self.buf.count(b'\n'))

    def _refuse(self, what, at, text=None):
        line = self.lines_before + self.buf.count(b'\n', 0, at) + 1
        if text is None:
            start = self.buf.rfind(b'\n', 0, at) + 1
            end = self.buf.find(b'\n', at)
            text = self.buf[start:end if end >= 0 else len(self.buf)]
        raise UnsafeDump(what, line, text.strip())

    # -- the lexer ----------------------------------------------------------------
    def _run(self):
        handlers = {_INIT: self._initial, _COMMENT: self._comment, _LINE_COMMENT: self._line_comment,
                    _STRING: self._string, _IDENT: self._quoted_ident, _DOLLAR: self._dollar, _COPY: self._copy}
        while self.pos < len(self.buf):
            if not handlers[self.state]():
                return

    def _need(self, count):
        """True when ``count`` bytes from pos are not all here yet (and more may come)."""
        return not self.eof and self.pos + count > len(self.buf)

    def _complete(self, match):
        """A token that runs to the end of the buffer may go on in the next block."""
        return self.eof or match.end() < len(self.buf)

    def _token(self):
        if self.unrestricted:
            self._refuse('SQL after the dump\'s own \\unrestrict line', self.pos)
        if self.copy_next:
            self._refuse('text after COPY ... FROM stdin; on the same line (psql would run it after the COPY data)',
                         self.pos)
        self.tokens_seen = True

    def _initial(self):
        buf, pos = self.buf, self.pos
        if self._need(4):
            return False
        ch = buf[pos:pos + 1]
        if ch in b' \t\n\r\f':
            match = _SPACE.match(buf, pos)
            if self.copy_next:
                newline = buf.find(b'\n', pos, match.end())
                if newline >= 0:
                    self.copy_next = False
                    self.copy_blocks += 1
                    self.state, self.pos, self.copy_at_line_start = _COPY, newline + 1, True
                    return True
            self.pos = match.end()
            return True
        two = buf[pos:pos + 2]
        if two == b'--':
            self._token_free_comment()
            self.state, self.pos = _LINE_COMMENT, pos + 2
            return True
        if two == b'/*':
            self._token_free_comment()
            self.state, self.depth, self.pos = _COMMENT, 0, pos + 2
            return True
        if ch == b'\\':
            return self._backslash()
        self._token()
        if ch == b"'" or (ch in b'bBxXnNeE' and buf[pos + 1:pos + 2] == b"'"):
            # E'': backslash escapes; B'' and X'': none; '' and N'': as standard_conforming_strings says
            self._word(None)
            mode = _ESCAPE if ch in b'eE' else _STANDARD if ch in b'bBxX' else _EITHER
            self.state, self.quote, self.pos = _STRING, (_IN, _IN, mode), pos + (1 if ch == b"'" else 2)
            return True
        if ch in b'uU' and buf[pos + 1:pos + 2] == b'&':
            self._word(None)
            follow = buf[pos + 2:pos + 3]
            if follow == b"'":
                self.state, self.quote, self.pos = _STRING, (_IN, _IN, _STANDARD), pos + 3
            elif follow == b'"':
                self.state, self.pos = _IDENT, pos + 3
            else:
                self.pos = pos + 1  # psql: the u alone, not an identifier
            return True
        if ch == b'"':
            self._word(None)
            self.state, self.pos = _IDENT, pos + 1
            return True
        if ch == b'$':
            return self._dollar_start()
        match = _IDENTIFIER.match(buf, pos)
        if match:
            if not self._complete(match):
                return False
            self._identifier(match.group(0))
            self.pos = match.end()
            return True
        if ch.isdigit() or (ch == b'.' and buf[pos + 1:pos + 2].isdigit()):
            match = _NUMBER.match(buf, pos)
            if not self._complete(match):
                return False
            text = match.group(0)
            self._word(None)
            self.pos = pos + (len(text) - 2 if text.endswith(b'..') else len(text))
            return True
        if ch == b':':
            return self._colon()
        self._word(None)
        if ch == b'(':
            self.paren += 1
        elif ch == b')':
            self.paren = max(0, self.paren - 1)
        elif ch == b';' and self.paren == 0 and self.begin == 0:
            self._statement_end()
        self.pos = pos + 1
        return True

    def _token_free_comment(self):
        if self.copy_next:
            self._refuse('a comment after COPY ... FROM stdin; on the same line', self.pos)

    def _backslash(self):
        end = self.buf.find(b'\n', self.pos)
        if end < 0 and not self.eof:
            return False
        end = len(self.buf) if end < 0 else end
        line_start = self.buf.rfind(b'\n', 0, self.pos) + 1
        line = self.buf[self.pos:end]
        match = _RESTRICT.match(line)
        alone = not self.buf[line_start:self.pos].strip()
        if match and alone and match.group(1) == b'restrict' and self.restrict_key is None and not self.tokens_seen:
            self.restrict_key = match.group(2)
        elif (match and alone and match.group(1) == b'unrestrict' and match.group(2) == self.restrict_key
              and not self.unrestricted and self.first_word is None and self.paren == 0):
            self.unrestricted = True
        else:
            self._refuse('a psql meta-command (a backslash outside quotes, comments and COPY data)', self.pos)
        self.pos = end
        return True

    def _dollar_start(self):
        buf, pos = self.buf, self.pos
        for pattern in (_DOLQ_DELIM, _PARAM, _DOLQ_FAILED):
            match = pattern.match(buf, pos)
            if match:
                if not self._complete(match):
                    return False
                self._word(None)
                if pattern is _DOLQ_DELIM:
                    self.state, self.dollar_tag, self.pos = _DOLLAR, match.group(0), match.end()
                elif pattern is _PARAM:
                    self.pos = match.end()
                else:
                    self.pos = pos + 1  # psql keeps only the $; the rest is lexed again
                return True
        self._word(None)
        self.pos = pos + 1
        return True

    def _colon(self):
        buf, pos = self.buf, self.pos
        self._word(None)
        if buf[pos + 1:pos + 2] in (b':', b'='):
            self.pos = pos + 2
            return True
        match = _VARIABLE.match(buf, pos)
        if match:
            if not self._complete(match):
                return False
            name = match.group(0)[1:]
            if name[:1] not in (b"'", b'"', b'{') and re.search(br'[A-Z]', name):
                self._refuse('a psql variable reference (:%s), which psql replaces by its value and reads again'
                             % name.decode('utf-8', 'replace'), pos)
            self.pos = match.end()
            return True
        self.pos = pos + 1
        return True

    def _identifier(self, text):
        word = text.lower()
        if self.ident_count == 0:
            self.idents = [b'', b'', b'', b'']
        if word in _FUNCTION_WORDS and self.ident_count < 4:
            self.idents[self.ident_count] = word[:1]
        self.ident_count += 1
        first = self.idents
        # psql's heuristic: CREATE [OR REPLACE] FUNCTION|PROCEDURE counts BEGIN/CASE ... END outside parentheses
        routine = first[1] in (b'f', b'p') or (first[1] == b'o' and first[2] == b'r' and first[3] in (b'f', b'p'))
        if first[0] == b'c' and routine and self.paren == 0:
            if word == b'begin':
                self.begin += 1
            elif word == b'case':
                if self.begin >= 1:
                    self.begin += 1
            elif word == b'end' and self.begin > 0:
                self.begin -= 1
        self._word(word)

    def _word(self, word):
        """Track the statement's first token and a top-level FROM STDIN."""
        if self.first_word is None:
            self.first_word = word or b''
        if word == b'stdin' and self.after_from and self.paren == 0:
            self.from_stdin = True
        self.after_from = word == b'from' and self.paren == 0

    def _statement_end(self):
        if self.first_word == b'copy' and self.from_stdin:
            self.copy_next = True
        self.first_word, self.after_from, self.from_stdin = None, False, False
        self.ident_count = 0

    # -- inside comments, strings, identifiers, dollar quotes, COPY data ---------
    def _comment(self):
        match = _COMMENT_MARK.search(self.buf, self.pos)
        if not match:
            # keep a last '/' or '*' that may pair with the next block
            self.pos = max(self.pos, len(self.buf) - 1) if not self.eof else len(self.buf)
            return False
        if match.group(0) == b'/*':
            self.depth += 1
        elif self.depth:
            self.depth -= 1
        else:
            self.state = _INIT
        self.pos = match.end()
        return True

    def _line_comment(self):
        match = _NEWLINE.search(self.buf, self.pos)
        if not match:
            self.pos = len(self.buf)
            return False
        self.state, self.pos = _INIT, match.start()
        return True

    def _string(self):
        standard, escape, mode = self.quote
        buf = self.buf
        while True:
            if standard == _IN and escape == _IN:
                match = _STRING_MARK.search(buf, self.pos)
                if not match:
                    self.pos = len(buf)
                    break
                self.pos = match.start()
            elif self.pos >= len(buf):
                break
            ch = buf[self.pos:self.pos + 1]
            standard = _step(standard, ch, False)
            escape = _step(escape, ch, True)
            if mode == _ESCAPE:
                standard = escape
            elif mode == _STANDARD:
                escape = standard
            if standard == _CLOSED or escape == _CLOSED:
                if standard != escape:
                    self._refuse('a string literal that ends at a different place with standard_conforming_strings '
                                 'on and off (a backslash before a quote); psql could read what follows as a '
                                 'command', self.pos)
                self.state, self.quote = _INIT, None
                return True
            self.pos += 1
        self.quote = (standard, escape, mode)
        return False

    def _quoted_ident(self):
        end = self.buf.find(b'"', self.pos)
        if end < 0:
            self.pos = len(self.buf)
            return False
        if end + 1 >= len(self.buf) and not self.eof:
            self.pos = end
            return False
        if self.buf[end + 1:end + 2] == b'"':
            self.pos = end + 2
            return True
        self.state, self.pos = _INIT, end + 1
        return True

    def _dollar(self):
        tag = self.dollar_tag
        end = self.buf.find(tag, self.pos)
        if end < 0:
            self.pos = max(self.pos, len(self.buf) - len(tag) + 1)
            return False
        self.state, self.pos = _INIT, end + len(tag)
        return True

    def _copy(self):
        buf = self.buf
        if self.copy_at_line_start:
            if self._need(4):
                return False
            if buf.startswith(b'\\.\n', self.pos) or buf.startswith(b'\\.\r\n', self.pos) or (
                    self.eof and buf[self.pos:].rstrip(b'\r\n') == b'\\.'):
                self.state = _INIT
                self.pos = buf.find(b'\n', self.pos) + 1 or len(buf)
                return True
        at = self.pos
        while True:  # the first "\n\\.\n" or "\n\\.\r\n"
            at = find_line_start(buf, b'\\.', at)
            if at < 0:
                break
            ending = buf[at + 3:at + 5]
            if ending[:1] == b'\n' or ending == b'\r\n':
                self.state, self.pos = _INIT, at + (4 if ending[:1] == b'\n' else 5)
                return True
            at += 1
        # Not here yet: keep the last bytes, which may begin the end marker.
        keep = max(self.pos, len(buf) - 4)
        self.copy_at_line_start = keep == self.pos and self.copy_at_line_start or buf[keep - 1:keep] == b'\n'
        self.pos = keep if not self.eof else len(buf)
        return False


def _step(state, ch, escapes):
    """One character through a '...' literal read with (``escapes``) or without backslash escapes."""
    if state == _BACKSLASH:
        return _IN
    if state == _QUOTE:
        return _IN if ch == b"'" else _CLOSED
    if ch == b"'":
        return _QUOTE
    if escapes and ch == b'\\':
        return _BACKSLASH
    return _IN


def scan_bytes(data, block=1 << 16):
    """Scan a whole dump held in memory (tests); the summary as finish() returns it."""
    scanner = Scanner()
    for start in range(0, len(data), block):
        scanner.feed(data[start:start + block])
    return scanner.finish()
