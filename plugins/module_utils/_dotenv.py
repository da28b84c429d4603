# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose's env-file reader, ported: compose-go v2.9.1 ``dotenv/parser.go``
and ``template/template.go`` (what Docker Compose v2.40.3 runs), step for
step, so that a value read here is the value Compose hands the container.
tests/integration/test_envfile_compose_oracle.py checks it against
``docker compose config`` on a table of cases.

Unlike Compose, each statement also says where it is in the text (offsets,
line number), whether its value depends on the environment Compose runs in,
and what follows its closing quote, so that envfile can rewrite one value in
place and refuse what it cannot rewrite faithfully.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re


class DotenvError(ValueError):
    """Compose would refuse the file too; ``line`` is 1-based."""

    def __init__(self, line, reason):
        super(DotenvError, self).__init__('line %d: %s' % (line, reason))
        self.line, self.reason = line, reason


class Statement(object):
    """One ``KEY=value`` (or ``KEY: value``, or a bare ``KEY``).

    ``start``: offset of the statement (``export`` included); ``value_start``
    and ``value_end``: the value as written (quotes included; an unquoted
    value without its inline comment and trailing blanks); ``end``: the end of
    the statement's last line (before its line break); ``quote``: '', "'" or
    '"'; ``inherited``: a bare key, its value taken from Compose's environment;
    ``interpolated``: the value used ``$VAR``/``${VAR}``; ``trailing``: text
    after a closing quote on the same line (Compose reads it as another
    statement unless it is blank or a comment)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _is_space(char):
    """dotenv's isSpace: a blank, never a line break."""
    return char in '\t\v\f\r \x85\xa0'


def _go_is_space(char):
    """Go's unicode.IsSpace."""
    if ord(char) <= 0xff:
        return char in '\t\n\v\f\r \x85\xa0'
    return char.isspace()


def _is_letter_or_number(char):
    return char.isalpha() or char.isnumeric()


def _rstrip_go(text):
    end = len(text)
    while end and _go_is_space(text[end - 1]):
        end -= 1
    return text[:end]


# --------------------------------------------------------------- template

_PATTERN = re.compile(r'\$(?:(?P<escaped>\$)|(?P<named>[_a-zA-Z][_a-zA-Z0-9]*)|'
                      r'\{(?:(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*(?::?[-+?](.*))?)\}|(?P<invalid>)))')
_OPERATORS = (':?', '?', ':-', '-', ':+', '+')


class _TemplateError(Exception):
    pass


def _first_brace_closing(text):
    depth, index = 0, 0
    while index < len(text):
        if text[index] == '}':
            depth -= 1
            if depth == 0:
                return index
        if text[index] == '{':
            depth += 1
            index += 1
        index += 1
    return -1


def _operator_for(template):
    """getSubstitutionFunctionForTemplate: the operator that occurs first."""
    found = [(template.find(op), rank, op) for rank, op in enumerate(_OPERATORS) if template.find(op) >= 0]
    return min(found)[2] if found else None


def _apply_operator(op, substitution, mapping):
    """(value, applied) of ``${name<op>word}``."""
    if op is None or op not in substitution:
        return '', False
    name, word = substitution.split(op, 1)
    word = substitute(word, mapping)
    value, present = mapping(name)
    if op in (':?', '?'):
        if not present or (op == ':?' and value == ''):
            raise _TemplateError('required variable %s is missing a value%s' % (name, ': ' + word if word else ''))
        return value, True
    if op in (':-', '-'):
        return (word if not present or (op == ':-' and value == '') else value), True
    return (word if present and (op == '+' or value != '') else value), True


def _replacement(substring, mapping):
    op = _operator_for(substring)
    close = _first_brace_closing(substring)
    rest = ''
    if close > -1:
        substring, rest = substring[:close + 1], substring[close + 1:]
    match = _PATTERN.search(substring)
    if match is None:
        raise _TemplateError('Invalid template: %r' % substring)
    if match.group('escaped'):
        return '$'
    substitution, braced = match.group('named'), False
    if not substitution:
        substitution, braced = match.group('braced'), True
    if not substitution:
        raise _TemplateError('Invalid template: %r' % substring)
    if braced:
        value, applied = _apply_operator(op, substitution, mapping)
        if applied:
            return value + substitute(rest, mapping)
    return mapping(substitution)[0]


def substitute(template, mapping):
    """template.Substitute: ``mapping(name)`` -> (value, present)."""
    errors = []

    def replace(match):
        try:
            return _replacement(match.group(0), mapping)
        except _TemplateError as exc:
            errors.append(exc)
            return ''
    result = _PATTERN.sub(replace, template)
    if errors:
        raise errors[0]
    return result


# ----------------------------------------------------------------- escapes

_ESCAPE = re.compile(r'(\\(?:[abcfnrtv$"\\]|0[0-9]{0,3}))')
_SIMPLE = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v', '"': '"', '\\': '\\'}


def _expand_escapes(text):
    def one(match):
        found = match.group(0)
        if found == '\\$':
            return '$$'
        if found.startswith('\\0'):
            found = '\\' + found[2:]
            digits = found[1:]
            # strconv.UnquoteChar: exactly three octal digits, at most 255.
            if len(digits) == 3 and all(d in '01234567' for d in digits) and int(digits, 8) <= 255:
                return chr(int(digits, 8))
            return found
        return _SIMPLE.get(found[1:], found)
    return _ESCAPE.sub(one, text)


# ------------------------------------------------------------------ parser

_EXPORT = re.compile(r'export[\t\n\f\r ]+')


class _Parser(object):

    def __init__(self, src, environment):
        self.src, self.environment, self.line = src, environment or {}, 1
        self.values = {}

    def _lookup(self, used):
        def mapping(name):
            used.append(name)
            if name in self.environment:
                return self.environment[name], True
            if name in self.values:
                return self.values[name], True
            return '', False
        return mapping

    def _expand(self, value, used):
        try:
            return substitute(value, self._lookup(used))
        except _TemplateError as exc:
            raise DotenvError(self.line, str(exc))

    def _statement_start(self, pos):
        src = self.src
        while True:
            while pos < len(src) and _go_is_space(src[pos]):
                if src[pos] == '\n':
                    self.line += 1
                pos += 1
            if pos >= len(src):
                return None
            if src[pos] != '#':
                return pos
            newline = src.find('\n', pos)
            if newline < 0:
                return None
            pos = newline

    def _locate_key(self, pos):
        src = self.src
        if _EXPORT.match(src, pos):
            pos += len('export')
            while pos < len(src) and _is_space(src[pos]):
                pos += 1
        key, offset, inherited, index = '', pos, False, pos
        while index < len(src):
            char = src[index]
            if _is_space(char):
                index += 1
                continue
            if char in '=:\n':
                key, offset, inherited = src[pos:index], index + 1, char == '\n'
                break
            if char not in '_.-[]' and not _is_letter_or_number(char):
                raise DotenvError(self.line, 'unexpected character %r in variable name %r'
                                  % (char, src[pos:].split('\n')[0]))
            index += 1
        if inherited and ' ' not in key:
            self.line += 1
        key = _rstrip_go(key)
        while offset < len(src) and _is_space(src[offset]):
            offset += 1
        return key, offset, inherited

    def _value(self, pos, used):
        """(value, value_end, rest) from ``pos``, the first character of the value."""
        src = self.src
        quote = src[pos] if pos < len(src) and src[pos] in '\'"' else ''
        if not quote:
            newline = src.find('\n', pos)
            line_end = len(src) if newline < 0 else newline
            self.line += 1
            raw = src[pos:line_end].split(' #', 1)[0]
            raw = _rstrip_go(raw)
            return self._expand(raw, used), pos + len(raw), line_end + 1 if newline >= 0 else len(src)
        chars, escaped, index = [], False, pos + 1
        while index < len(src):
            char = src[index]
            if char == '\n':
                self.line += 1
            if char != quote:
                if not escaped and char == '\\':
                    escaped = True
                elif escaped:
                    escaped = False
                    chars.extend(('\\', char))
                else:
                    chars.append(char)
                index += 1
                continue
            if escaped:
                escaped = False
                chars.append(char)
                index += 1
                continue
            value = ''.join(chars)
            if quote == '"':
                value = self._expand(_expand_escapes(value), used)
            return value, index + 1, index + 1
        # Compose counts the lines the open quote swallowed; the line it opens on is the one to fix.
        raise DotenvError(self.statement_line, 'unterminated quoted value %s' % src[pos:].split('\n')[0])

    def parse(self):
        statements = []
        pos = 0
        src = self.src
        while True:
            pos = self._statement_start(pos)
            if pos is None:
                return statements
            line = self.statement_line = self.line
            key, after, inherited = self._locate_key(pos)
            if ' ' in key:
                raise DotenvError(self.line, 'key cannot contain a space')
            if inherited:
                value = self.environment.get(key)
                if value is not None:
                    self.values[key] = value
                end = src.find('\n', pos)
                statements.append(Statement(key=key, value=value, line=line, start=pos, value_start=end,
                                            value_end=end, end=end, quote='', inherited=True,
                                            interpolated=False, trailing=''))
                pos = after
                continue
            used = []
            quote = src[after] if after < len(src) and src[after] in '\'"' else ''
            value, value_end, rest = self._value(after, used)
            newline = src.find('\n', value_end)
            end = len(src) if newline < 0 else newline
            self.values[key] = value
            statements.append(Statement(key=key, value=value, line=line, start=pos, value_start=after,
                                        value_end=value_end, end=end, quote=quote, inherited=False,
                                        interpolated=bool(used), trailing=src[value_end:end] if quote else ''))
            pos = rest


def parse(text, environment=None):
    """[Statement] in file order, as Compose reads ``text`` (a UTF-8 BOM
    already removed) with ``environment`` as its process environment (none
    by default: values that need one are marked ``inherited``/``interpolated``).
    Raises DotenvError where Compose fails."""
    return _Parser(text, environment).parse()


def values(text, environment=None):
    """{key: value}; the last statement of a key wins, as in Compose."""
    result = {}
    for statement in parse(text, environment):
        if statement.value is not None:
            result[statement.key] = statement.value
    return result
