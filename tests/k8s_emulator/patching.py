"""Patch semantics of the Kubernetes API server, on plain JSON dicts.

* ``application/merge-patch+json``: RFC 7386 (dicts merge, ``null`` deletes,
  lists are replaced).
* ``application/strategic-merge-patch+json``: like merge patch, but lists
  that Kubernetes declares with a ``patchMergeKey`` (containers by ``name``,
  env by ``name``, ports by ``containerPort``, ...) are merged item by item,
  ``$patch: delete|replace`` directives are honoured, and the other ``$...``
  directives (``$setElementOrder``, ``$retainKeys``, ...) are accepted and
  ignored.  The table below covers the fields of the core/apps objects the
  emulator serves; lists not in the table are replaced, as they are for
  fields without a merge key in real Kubernetes.
* ``application/json-patch+json``: RFC 6902 (add, remove, replace, move,
  copy, test).
"""

import copy

# field name -> merge key (None: primitive list merged as a set union)
MERGE_KEYS = {
    'containers': 'name',
    'initContainers': 'name',
    'ephemeralContainers': 'name',
    'env': 'name',
    'envFrom': None,  # no merge key in Kubernetes: replaced (handled below)
    'volumes': 'name',
    'volumeMounts': 'mountPath',
    'volumeDevices': 'devicePath',
    'ports': 'containerPort',
    'imagePullSecrets': 'name',
    'conditions': 'type',
    'ownerReferences': 'uid',
    'finalizers': None,
    'hostAliases': 'ip',
    'topologySpreadConstraints': 'topologyKey',
    'resourceClaims': 'name',
}
# lists merged as a union of primitives
PRIMITIVE_MERGE = {'finalizers'}
# lists replaced even though they appear in MERGE_KEYS above for documentation
REPLACED = {'envFrom'}


class PatchError(ValueError):
    pass


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch; returns a new object."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch, field=None):
    """Strategic merge patch (the subset Kubernetes uses for core types)."""
    if not isinstance(patch, dict):
        if isinstance(patch, list):
            return _merge_list(target, patch, field)
        return copy.deepcopy(patch)
    if patch.get('$patch') == 'replace':
        return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith('$')}
    if patch.get('$patch') == 'delete':
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith('$'):
            continue  # $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...
        if value is None:
            result.pop(key, None)
            continue
        merged = strategic_merge_patch(result.get(key), value, key)
        if merged is None and isinstance(value, dict) and value.get('$patch') == 'delete':
            result.pop(key, None)
        else:
            result[key] = merged
    for key, value in patch.items():  # $deleteFromPrimitiveList/<field>: [...]
        if key.startswith('$deleteFromPrimitiveList/') and isinstance(value, list):
            name = key.split('/', 1)[1]
            if isinstance(result.get(name), list):
                result[name] = [v for v in result[name] if v not in value]
    return result


def _merge_list(target, patch, field):
    if field in REPLACED or field not in MERGE_KEYS or not isinstance(target, list):
        return [_strip(v) for v in patch if not (isinstance(v, dict) and v.get('$patch'))]
    if field in PRIMITIVE_MERGE:
        out = list(target)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    key = MERGE_KEYS[field]
    if any(isinstance(v, dict) and v.get('$patch') == 'replace' for v in patch):
        return [_strip(v) for v in patch if not (isinstance(v, dict) and '$patch' in v)]
    out = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError('map in list %s lacks its merge key %r' % (field, key))
        idx = next((i for i, cur in enumerate(out)
                    if isinstance(cur, dict) and cur.get(key) == item[key]), None)
        if item.get('$patch') == 'delete':
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            out.append(_strip(item))
        else:
            out[idx] = strategic_merge_patch(out[idx], item, None)
    return out


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith('$') and v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return copy.deepcopy(value)


def _unescape(token):
    return token.replace('~1', '/').replace('~0', '~')


def _pointer(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise PatchError('invalid JSON pointer %r' % path)
    return [_unescape(t) for t in path[1:].split('/')]


def _walk(doc, tokens):
    cur = doc
    for t in tokens:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError('path component %r not found' % t)
            cur = cur[t]
        elif isinstance(cur, list):
            try:
                cur = cur[int(t)]
            except (ValueError, IndexError):
                raise PatchError('list index %r out of range' % t)
        else:
            raise PatchError('cannot descend into %r' % t)
    return cur


def _get(doc, path):
    return copy.deepcopy(_walk(doc, _pointer(path)))


def _add(doc, path, value):
    tokens = _pointer(path)
    if not tokens:
        return copy.deepcopy(value)
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == '-':
            parent.append(copy.deepcopy(value))
        else:
            i = int(last)
            if i > len(parent):
                raise PatchError('list index %d out of range' % i)
            parent.insert(i, copy.deepcopy(value))
    else:
        raise PatchError('cannot add to %s' % path)
    return doc


def _remove(doc, path):
    tokens = _pointer(path)
    parent = _walk(doc, tokens[:-1])
    last = tokens[-1]
    try:
        if isinstance(parent, dict):
            del parent[last]
        else:
            del parent[int(last)]
    except (KeyError, ValueError, IndexError, TypeError):
        raise PatchError('path %s not found' % path)
    return doc


def json_patch(target, ops):
    """RFC 6902 JSON patch; returns a new object."""
    if not isinstance(ops, list):
        raise PatchError('a JSON patch must be a list of operations')
    doc = copy.deepcopy(target)
    for op in ops:
        kind, path = op.get('op'), op.get('path', '')
        if kind == 'add':
            doc = _add(doc, path, op.get('value'))
        elif kind == 'remove':
            doc = _remove(doc, path)
        elif kind == 'replace':
            _walk(doc, _pointer(path))  # must exist
            if _pointer(path):
                doc = _remove(doc, path)
            doc = _add(doc, path, op.get('value'))
        elif kind == 'move':
            value = _get(doc, op['from'])
            doc = _remove(doc, op['from'])
            doc = _add(doc, path, value)
        elif kind == 'copy':
            doc = _add(doc, path, _get(doc, op['from']))
        elif kind == 'test':
            if _get(doc, path) != op.get('value'):
                raise PatchError('test operation failed at %s' % path)
        else:
            raise PatchError('unknown JSON patch operation %r' % kind)
    return doc


def apply_patch(target, patch, content_type):
    ct = (content_type or '').split(';')[0].strip().lower()
    if ct == 'application/json-patch+json':
        return json_patch(target, patch)
    if ct == 'application/merge-patch+json':
        return merge_patch(target, patch)
    # strategic merge; server-side apply is approximated by it too
    if ct in ('application/strategic-merge-patch+json', 'application/apply-patch+yaml',
              'application/apply-patch+json', 'application/json', ''):
        if not isinstance(patch, dict):
            raise PatchError('a strategic merge patch must be an object')
        return strategic_merge_patch(target, patch)
    raise PatchError('unsupported patch content type %r' % content_type)
