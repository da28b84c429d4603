"""Server-side printing (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``),
which ``kubectl get`` asks for; columns as the real API server prints them."""

import time

from .core import RESOURCES, parse_time


def human_duration(seconds):
    s = int(max(seconds, 0))
    if s < 120:
        return '%ds' % s
    m = s // 60
    if m < 10:
        return '%dm%ds' % (m, s % 60) if s % 60 else '%dm' % m
    if m < 180:
        return '%dm' % m
    h = m // 60
    if h < 8:
        return '%dh%dm' % (h, m % 60) if m % 60 else '%dh' % h
    if h < 48:
        return '%dh' % h
    return '%dd' % (h // 24)


def _age(obj, now):
    ts = obj['metadata'].get('creationTimestamp')
    return human_duration(now - parse_time(ts)) if ts else '<unknown>'


def _col(name, kind='string', priority=0, fmt=''):
    return {'name': name, 'type': kind, 'format': fmt, 'description': name, 'priority': priority}


def _pod_cells(p, now):
    st = p.get('status') or {}
    css = st.get('containerStatuses') or []
    ready = sum(1 for c in css if c.get('ready'))
    reason = st.get('phase', 'Unknown')
    for c in css:
        state = c.get('state') or {}
        if state.get('waiting', {}).get('reason'):
            reason = state['waiting']['reason']
        elif state.get('terminated'):
            reason = state['terminated'].get('reason') or 'Error'
    if p['metadata'].get('deletionTimestamp'):
        reason = 'Terminating'
    restarts = sum(c.get('restartCount', 0) for c in css)
    restart_text = str(restarts)
    last = [c.get('lastState', {}).get('terminated', {}).get('finishedAt') for c in css]
    last = [x for x in last if x]
    if restarts and last:
        restart_text = '%d (%s ago)' % (restarts, human_duration(now - parse_time(max(last))))
    return ['%s' % p['metadata']['name'], '%d/%d' % (ready, len(p['spec'].get('containers') or [])), reason,
            restart_text, _age(p, now), st.get('podIP', '<none>'), p['spec'].get('nodeName', '<none>'),
            '<none>', '<none>']


def _containers(obj):
    cs = obj['spec']['template']['spec'].get('containers') or []
    return ','.join(c['name'] for c in cs), ','.join(c.get('image', '') for c in cs)


def _selector(obj):
    from .selectors import selector_to_string
    return selector_to_string(obj['spec'].get('selector'))


def _deploy_cells(d, now):
    st = d.get('status') or {}
    names, images = _containers(d)
    return [d['metadata']['name'], '%d/%d' % (st.get('readyReplicas', 0), d['spec'].get('replicas', 1)),
            st.get('updatedReplicas', 0), st.get('availableReplicas', 0), _age(d, now), names, images,
            _selector(d)]


def _rs_cells(rs, now):
    st = rs.get('status') or {}
    names, images = _containers(rs)
    return [rs['metadata']['name'], rs['spec'].get('replicas', 1), st.get('replicas', 0),
            st.get('readyReplicas', 0), _age(rs, now), names, images, _selector(rs)]


def _event_cells(e, now):
    io = e.get('involvedObject') or {}
    last = e.get('lastTimestamp') or e['metadata'].get('creationTimestamp')
    return [human_duration(now - parse_time(last)) if last else '<unknown>', e.get('type', ''),
            e.get('reason', ''), '%s/%s' % (io.get('kind', '').lower(), io.get('name', '')), e.get('message', '')]


COLUMNS = {
    'pods': ([_col('Name', fmt='name'), _col('Ready'), _col('Status'), _col('Restarts'), _col('Age'),
              _col('IP', priority=1), _col('Node', priority=1), _col('Nominated Node', priority=1),
              _col('Readiness Gates', priority=1)], _pod_cells),
    'deployments': ([_col('Name', fmt='name'), _col('Ready'), _col('Up-to-date', 'integer'),
                     _col('Available', 'integer'), _col('Age'), _col('Containers', priority=1),
                     _col('Images', priority=1), _col('Selector', priority=1)], _deploy_cells),
    'replicasets': ([_col('Name', fmt='name'), _col('Desired', 'integer'), _col('Current', 'integer'),
                     _col('Ready', 'integer'), _col('Age'), _col('Containers', priority=1),
                     _col('Images', priority=1), _col('Selector', priority=1)], _rs_cells),
    'secrets': ([_col('Name', fmt='name'), _col('Type'), _col('Data', 'integer'), _col('Age')],
                lambda s, now: [s['metadata']['name'], s.get('type', 'Opaque'), len(s.get('data') or {}),
                                _age(s, now)]),
    'namespaces': ([_col('Name', fmt='name'), _col('Status'), _col('Age')],
                   lambda n, now: [n['metadata']['name'], (n.get('status') or {}).get('phase', 'Active'),
                                   _age(n, now)]),
    'events': ([_col('Last Seen'), _col('Type'), _col('Reason'), _col('Object'), _col('Message')], _event_cells),
}


def wants_table(accept):
    return 'as=Table' in (accept or '')


def to_table(plural, items, resource_version, include_object='PartialObjectMetadata'):
    res = RESOURCES[plural]
    now = time.time()
    columns, cells = COLUMNS.get(plural, ([_col('Name', fmt='name'), _col('Age')],
                                          lambda o, n: [o['metadata']['name'], _age(o, n)]))
    rows = []
    for obj in items:
        if include_object == 'Object':
            ref = dict(obj, apiVersion=res.api_version, kind=res.kind)
        elif include_object == 'None':
            ref = None
        else:
            ref = {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1', 'metadata': obj['metadata']}
        row = {'cells': cells(obj, now)}
        if ref is not None:
            row['object'] = ref
        rows.append(row)
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/v1', 'metadata': {'resourceVersion': resource_version},
            'columnDefinitions': columns, 'rows': rows}
