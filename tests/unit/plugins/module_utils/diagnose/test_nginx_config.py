"""The nginx configuration as the diagnosis reads it (nginx_config) and edits
it (nginx_edit), over `nginx -T` output recorded from nginx 1.22.1 (Debian
bookworm's nginx-light, the reference frontend): the reference stack's own
configuration, and one made of included files (tests/unit/fixtures/nginx)."""
import os

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.diagnose import nginx_config, nginx_edit
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.blank_page import assets, has_fallback, \
    spa_location
from ansible_collections.quickbite.ops.plugins.module_utils.diagnose.websocket import websocket_locations
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'nginx')


def _dump(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize('text, seconds', [('90', 90), ('90s', 90), ('1m30s', 90), ('1h', 3600), ('500ms', 0.5),
                                           ('2d', 172800), ('1w', 604800), ('', None), ('x', None), ('1m x', None),
                                           ('s', None)])
def test_nginx_times(text, seconds):
    assert nginx_config.parse_time(text) == seconds


def test_the_dump_is_split_into_its_files_byte_for_byte():
    files = nginx_config.split_dump('nginx: the configuration file x syntax is ok\n' + _dump('nginx-1.22-T-reference.txt'))
    assert [path for path, dummy in files] == ['/etc/nginx/nginx.conf', '/etc/nginx/mime.types']
    main = files[0][1]
    assert main.startswith('# QuickBite frontend.') and main.endswith('    }\n}\n')


def test_reference_configuration():
    config = nginx_config.parse_dump(_dump('nginx-1.22-T-reference.txt'))
    names = [nginx_config.location_name(chain[-1]) for dummy, chain in config.locations()]
    assert names == ['/', '/api/', '/ws']
    found = websocket_locations(config, 60)
    assert len(found) == 1 and found[0]['location'] == '/ws' and found[0]['low'] == []
    assert found[0]['timeouts']['proxy_read_timeout'] == dict(value='3600s', seconds=3600,
                                                              where='location /ws, /etc/nginx/nginx.conf line 60')
    assert websocket_locations(config, 7200)[0]['low'] == ['proxy_read_timeout', 'proxy_send_timeout']
    server, chain = spa_location(config)
    assert has_fallback(config, server, chain) == (['$uri', '$uri/', '/index.html'], True)
    assert config.server_root(server, chain) == '/usr/share/nginx/html'
    # /api/ proxies without upgrades ("Connection ''"): not a WebSocket location.
    assert [loc['location'] for loc in found] == ['/ws']


def test_includes_are_resolved_and_inheritance_followed():
    config = nginx_config.parse_dump(_dump('nginx-1.22-T-includes.txt'))
    assert config.main == '/tmp/qb/nginx.conf' and len(config.files) == 4
    found = dict((loc['location'], loc) for loc in websocket_locations(config, 60))
    # /ws sets Upgrade itself; its read timeout comes from http (45 s), its send timeout is its own.
    ws = found['/ws']
    assert ws['file'] == '/tmp/qb/conf.d/a-app.conf' and ws['low'] == ['proxy_read_timeout']
    assert ws['timeouts']['proxy_read_timeout']['where'] == 'http, /tmp/qb/nginx.conf line 7'
    assert ws['timeouts']['proxy_send_timeout']['seconds'] == 90
    # /ws/nested sets no header of its own: it inherits /ws's Upgrade and 1m30s send timeout.
    nested = found['/ws/nested']
    assert nested['timeouts']['proxy_send_timeout']['where'].startswith('location /ws,')
    # /live inherits the server's Upgrade headers; its read timeout is its own 2 h, the send timeout nginx's 60 s.
    live = found['/live']
    assert live['low'] == [] and live['timeouts']['proxy_send_timeout']['where'] == "nginx's default"
    assert live['server'] == '127.0.0.1:28082'
    server, chain = spa_location(config)
    assert has_fallback(config, server, chain) == (['$uri', '=404'], False)
    assert config.server_root(server, chain) == '/srv/www'


def test_a_dump_without_files_and_a_broken_file_are_refused():
    with pytest.raises(ConfigError, match='holds no "# configuration file" section'):
        nginx_config.parse_dump('nginx: [emerg] unknown directive "proxy_pas"\n')
    with pytest.raises(ConfigError, match='cannot parse /etc/nginx/nginx.conf'):
        nginx_config.parse_text('http {\n    server {\n}\n')


def test_edits_keep_every_other_byte_and_are_proven():
    text = nginx_config.split_dump(_dump('nginx-1.22-T-reference.txt'))[0][1]
    low = text.replace('proxy_read_timeout 3600s;\n            proxy_send_timeout 3600s;',
                       'proxy_read_timeout 30s;\n            proxy_send_timeout 30s;')
    config = nginx_config.parse_text(low)
    server, chain = [(s, c) for s, c in config.locations() if c[-1]['args'] == ['/ws']][0]
    edits = [nginx_edit.Edit(server, chain, 'proxy_read_timeout', ['3600s']),
             nginx_edit.Edit(server, chain, 'proxy_send_timeout', ['3600s'])]
    assert nginx_edit.apply(low, config, edits, '/etc/nginx/nginx.conf') == text
    # A fallback removed comes back as the reference line.
    bare = text.replace('            try_files $uri $uri/ /index.html;\n', '')
    config = nginx_config.parse_text(bare)
    server, chain = spa_location(config)
    edit = nginx_edit.Edit(server, chain, 'try_files', ['$uri', '$uri/', '/index.html'])
    assert nginx_edit.apply(bare, config, [edit], '/etc/nginx/nginx.conf') == text


def test_an_edit_in_another_file_or_across_lines_is_refused():
    config = nginx_config.parse_dump(_dump('nginx-1.22-T-includes.txt'))
    server, chain = [(s, c) for s, c in config.locations() if c[-1]['args'] == ['/ws']][0]
    edit = nginx_edit.Edit(server, chain, 'proxy_read_timeout', ['3600s'])
    with pytest.raises(ConfigError, match='location /ws is in /tmp/qb/conf.d/a-app.conf, not in /tmp/qb/nginx.conf'):
        nginx_edit.apply(config.files['/tmp/qb/nginx.conf'], config, [edit], '/tmp/qb/nginx.conf')
    split = 'events {}\nhttp {\n  server {\n    location / {\n      try_files $uri\n        =404;\n    }\n  }\n}\n'
    config = nginx_config.parse_text(split)
    server, chain = spa_location(config)
    with pytest.raises(ConfigError, match='does not end on that line'):
        nginx_edit.apply(split, config, [nginx_edit.Edit(server, chain, 'try_files', ['$uri', '/index.html'])],
                         '/etc/nginx/nginx.conf')


def test_edits_in_an_included_file_are_proven_in_its_own_context():
    config = nginx_config.parse_dump(_dump('nginx-1.22-T-includes.txt'))
    path = '/tmp/qb/conf.d/a-app.conf'
    server, chain = [(s, c) for s, c in config.locations() if c[-1]['args'] == ['/ws']][0]
    edit = nginx_edit.Edit(server, chain, 'proxy_read_timeout', ['3600s'])
    new = nginx_edit.apply(config.files[path], config, [edit], path)
    assert '    location /ws {\n        proxy_read_timeout 3600s;\n        proxy_pass' in new


def test_assets_of_a_page():
    html = ('<html><head><link rel="stylesheet" href="/app.css"><link rel="icon" href="/f.ico">'
            '<link rel="preload stylesheet" href="b.css?v=2"><script src="https://cdn.example/x.js"></script>'
            '<script>inline()</script></head><body><script src="/app.js#x"></script></body></html>')
    assert assets(html) == [('stylesheet', '/app.css'), ('stylesheet', '/b.css'), ('script', '/app.js')]
