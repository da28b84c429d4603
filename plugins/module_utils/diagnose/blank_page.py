# -*- coding: utf-8 -*-
# Copyright: (c) 2026, QuickBite operations
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbook's "Frontend shows blank page", one finding per question:
does ``nginx -t`` pass; does the document root list index.html; does every
script and stylesheet index.html references (read with html.parser) exist
there and answer 200 with its Content-Type; does the SPA's deep route answer
200 text/html with the index; does the SPA's location keep the try_files
fallback to /index.html."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import posixpath
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

from ansible_collections.quickbite.ops.plugins.module_utils import _http
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import registry
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.finding import OK, BLANK_PAGE, ok, problem, skipped
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.frontend import Frontend, safe_config
from ansible_collections.quickbite.ops.plugins.module_utils.errors import QuickbiteError

FIX = 'fix_spa_fallback'
INDEX = 'index.html'
# Content types a browser runs or applies (a script served as text/plain is refused under nosniff).
CONTENT_TYPES = {'script': ('application/javascript', 'text/javascript'), 'stylesheet': ('text/css',)}
REDEPLOY = ('recreate the frontend from its image, which holds the document root: playbooks/restart.yml -e '
            '\'{"restart_services": ["frontend"]}\' -e restart_mode=recreate (or roll back: playbooks/rollback.yml)')


class _Assets(HTMLParser):
    """Local scripts (<script src>) and stylesheets (<link rel=stylesheet href>) of a page."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.assets = []

    def handle_starttag(self, tag, attrs):
        attrs = dict((k.lower(), v or '') for k, v in attrs)
        if tag == 'script' and attrs.get('src'):
            self.assets.append(('script', attrs['src']))
        elif tag == 'link' and 'stylesheet' in attrs.get('rel', '').lower().split() and attrs.get('href'):
            self.assets.append(('stylesheet', attrs['href']))


def assets(html):
    """[(kind, url path)] of the page's own scripts and stylesheets (other origins left out)."""
    parser = _Assets()
    parser.feed(html)
    parser.close()
    found = []
    for kind, ref in parser.assets:
        if '//' in ref.split('?')[0] or ref.startswith('data:'):
            continue
        path = ref.split('#')[0].split('?')[0]
        found.append((kind, path if path.startswith('/') else '/' + path))
    return found


def spa_location(config):
    """(server, chain) of the location that serves the SPA (``location /``), or (None, None)."""
    for server, chain in config.locations():
        if len(chain) == 1 and chain[0]['args'] == ['/']:
            return server, chain
    return None, None


def has_fallback(config, server, chain, index='/' + INDEX):
    """The try_files args of the SPA's location and whether they end in the index."""
    args, dummy = config.effective(server, chain, 'try_files') if server is not None else (None, None)
    return args, bool(args) and args[-1] == index


def _get(settings, path):
    url = settings.health.frontend_url.rstrip('/') + path
    try:
        status, headers, body = _http.fetch(url, settings.health.request_timeout, settings.health.validate_certs)
    except _http.NO_ANSWER as exc:
        return url, None, None, None, _http.failure(exc)
    return url, status, headers.get('content-type', ''), body, None


def _nginx_test(frontend):
    try:
        passed, text = frontend.test()
    except QuickbiteError as exc:
        return skipped(BLANK_PAGE, 'cannot run nginx -t in %s: %s' % (frontend.where, exc.msg))
    if passed:
        return ok(BLANK_PAGE, 'nginx -t passes in %s' % frontend.where, dict(output=text))
    return problem(BLANK_PAGE, 'nginx -t fails in %s: %s' % (frontend.where, text), dict(output=text),
                   fix_note='correct the configuration nginx -t names (it keeps running the last good one until a '
                            'reload or restart)')


def _assets(settings, frontend, root, listing, html):
    findings = []
    for kind, path in assets(html):
        rel = posixpath.normpath(path).lstrip('/')
        on_disk = rel in listing if '/' not in rel else frontend.read(posixpath.join(root, rel))[0] is not None
        url, status, ctype, dummy, failure = _get(settings, path)
        wanted = CONTENT_TYPES[kind]
        served = status == 200 and ctype.split(';')[0].strip().lower() in wanted
        evidence = dict(kind=kind, path=path, file=posixpath.join(root, rel), exists=on_disk, status=status,
                        content_type=ctype)
        answer = failure or 'HTTP %s %s' % (status, ctype or '(no Content-Type)')
        if on_disk and served:
            findings.append(ok(BLANK_PAGE, '%s %s exists and GET %s answers %s' % (kind, path, url, answer), evidence))
            continue
        why = []
        if not on_disk:
            why.append('%s is missing from %s' % (evidence['file'], frontend.where))
        if not served:
            why.append('GET %s answers %s, not 200 %s' % (url, answer, ' or '.join(wanted)))
        findings.append(problem(BLANK_PAGE, 'index.html references %s %s but %s' % (kind, path, '; '.join(why)),
                                evidence, fix_note=REDEPLOY))
    return findings


def _deep_route(settings, answer, index_html, falls_back):
    """The finding of the deep route's ``answer`` (_get's tuple)."""
    route = settings.health.frontend_deep_route
    url, status, ctype, body, failure = answer
    evidence = dict(route=route, status=status, content_type=ctype)
    is_index = body is not None and index_html is not None and body.decode('utf-8', 'replace') == index_html
    if status == 200 and ctype.startswith('text/html') and is_index:
        return ok(BLANK_PAGE, 'deep route %s answers 200 %s with index.html' % (route, ctype), evidence)
    said = failure or 'HTTP %s %s%s' % (status, ctype or '(no Content-Type)',
                                        '' if is_index or index_html is None else ', not index.html')
    if not falls_back:
        return problem(BLANK_PAGE, 'deep route GET %s answers %s: a reload on any route but / shows nothing'
                       % (url, said), evidence, fix=FIX, fix_note='the try_files fallback is missing')
    return problem(BLANK_PAGE, 'deep route GET %s answers %s although location / falls back to /index.html'
                   % (url, said), evidence, fix_note=REDEPLOY if index_html is None else
                   'see the other findings of this section')


def _fallback(config):
    """(finding, whether location / falls back to the index)."""
    found = _fallback_finding(config)
    return found, found.status == OK


def _fallback_finding(config):
    server, chain = spa_location(config)
    if server is None:
        return problem(BLANK_PAGE, 'no "location /" serves the SPA in the nginx configuration', fix=FIX,
                       fix_note='fix_spa_fallback adds try_files to an existing location /; add one by hand')
    args, falls_back = has_fallback(config, server, chain)
    evidence = dict(location='/', file=chain[0]['file'], line=chain[0]['line'], try_files=args)
    if falls_back:
        return ok(BLANK_PAGE, 'location / falls back to /index.html (try_files %s)' % ' '.join(args), evidence)
    return problem(BLANK_PAGE, 'location / (%s line %s) lacks the SPA fallback: try_files %s' % (
        chain[0]['file'], chain[0]['line'], ' '.join(args) if args else 'is not set'), evidence, fix=FIX,
        fix_note='restores try_files $uri $uri/ /index.html, tests and reloads nginx')


@registry.check('blank_page', BLANK_PAGE, limit=15, order=40)
def blank_page(adapter, settings):
    """Each command in the frontend costs a round trip (a ``compose exec`` or a
    pod exec): those that do not wait for each other run side by side."""
    frontend = Frontend(adapter, settings.frontend_service, settings.health.request_timeout)
    try:
        frontend.spawner()
    except QuickbiteError as exc:
        return [skipped(BLANK_PAGE, 'cannot run commands in %s: %s' % (frontend.where, exc.msg))]
    with ThreadPoolExecutor(max_workers=3) as pool:
        tested = pool.submit(_nginx_test, frontend)
        deep = pool.submit(_get, settings, settings.health.frontend_deep_route)
        config, why = safe_config(frontend)
        if config is None:
            return [tested.result(), skipped(BLANK_PAGE, 'cannot read the nginx configuration of %s: %s'
                                             % (frontend.where, why))]
        server, chain = spa_location(config)
        root = config.server_root(server, chain)
        read = pool.submit(frontend.read, posixpath.join(root, INDEX))
        listing, why = frontend.listdir(root)
        findings = [tested.result()]
        index_html = None
        if listing is None:
            findings.append(problem(BLANK_PAGE, 'document root %s cannot be listed in %s: %s'
                                    % (root, frontend.where, why), dict(root=root), fix_note=REDEPLOY))
        elif INDEX not in listing:
            findings.append(problem(BLANK_PAGE, 'document root %s in %s has no index.html (it holds %s)' % (
                root, frontend.where, ', '.join(sorted(listing)[:10]) or 'nothing'), dict(root=root, files=listing),
                fix_note=REDEPLOY))
        else:
            index_html, why = read.result()
            findings.append(ok(BLANK_PAGE, 'document root %s lists index.html' % root, dict(root=root, files=listing)))
            if index_html is not None:
                findings.extend(_assets(settings, frontend, root, listing, index_html))
        fallback, falls_back = _fallback(config)
        findings.append(_deep_route(settings, deep.result(), index_html, falls_back))
        findings.append(fallback)
        return findings
