"""Label and field selectors as the API server parses them from the query.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``,
``k`` (exists), ``!k`` (does not exist), comma-separated (AND).
Field selectors: ``path=value``, ``path==value``, ``path!=value`` on any dotted
path of the object (``metadata.name``, ``status.phase``, ``spec.nodeName``...).
"""

import re


class SelectorError(ValueError):
    pass


def _split_terms(text):
    terms, depth, cur = [], 0, ''
    for ch in text:
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        if ch == ',' and depth == 0:
            terms.append(cur)
            cur = ''
        else:
            cur += ch
    if depth:
        raise SelectorError('unbalanced parentheses in selector %r' % text)
    terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


_SET = re.compile(r'^([A-Za-z0-9_./-]+)\s+(in|notin)\s*\(([^)]*)\)$')
_EQ = re.compile(r'^([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)$')
_EXISTS = re.compile(r'^(!?)\s*([A-Za-z0-9_./-]+)$')


def parse_label_selector(text):
    """Returns a predicate over a labels dict."""
    checks = []
    for term in _split_terms(text or ''):
        m = _SET.match(term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(',') if v.strip()}
            if op == 'in':
                checks.append(lambda l, k=key, vs=values: k in l and l[k] in vs)
            else:
                checks.append(lambda l, k=key, vs=values: k not in l or l[k] not in vs)
            continue
        m = _EQ.match(term)
        if m:
            key, op, value = m.groups()
            if op == '!=':
                checks.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                checks.append(lambda l, k=key, v=value: k in l and l[k] == v)
            continue
        m = _EXISTS.match(term)
        if m:
            neg, key = m.groups()
            if neg:
                checks.append(lambda l, k=key: k not in l)
            else:
                checks.append(lambda l, k=key: k in l)
            continue
        raise SelectorError('unable to parse requirement: %r' % term)
    return lambda labels: all(c(labels or {}) for c in checks)


def _lookup(obj, path):
    cur = obj
    for part in path.split('.'):
        if not isinstance(cur, dict) or part not in cur:
            return ''
        cur = cur[part]
    if isinstance(cur, bool):
        return 'true' if cur else 'false'
    return '' if cur is None else str(cur)


def parse_field_selector(text):
    """Returns a predicate over a whole object."""
    checks = []
    for term in _split_terms(text or ''):
        m = re.match(r'^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$', term)
        if not m:
            raise SelectorError('invalid field selector: %r' % term)
        path, op, value = m.groups()
        if op == '!=':
            checks.append(lambda o, p=path, v=value: _lookup(o, p) != v)
        else:
            checks.append(lambda o, p=path, v=value: _lookup(o, p) == v)
    return lambda obj: all(c(obj) for c in checks)


def selector_to_string(selector):
    """A LabelSelector (matchLabels/matchExpressions dict) to its query form."""
    if not selector:
        return ''
    parts = ['%s=%s' % kv for kv in sorted((selector.get('matchLabels') or {}).items())]
    for expr in selector.get('matchExpressions') or []:
        op = expr.get('operator')
        if op in ('In', 'NotIn'):
            parts.append('%s %s (%s)' % (expr['key'], op.lower(), ','.join(expr.get('values') or [])))
        elif op == 'Exists':
            parts.append(expr['key'])
        elif op == 'DoesNotExist':
            parts.append('!' + expr['key'])
    return ','.join(parts)


def selector_matches(selector, labels):
    """A LabelSelector dict against a labels dict (empty selector matches all)."""
    return parse_label_selector(selector_to_string(selector))(labels or {})
