"""Only platform/ may ask which platform it is on (issue 11, item 1): every
other file of plugins/ asks the adapter for a capability instead. Reporting
the platform (``platform=adapter.platform`` in a result) is fine; comparing
it, keying a table by it or testing an adapter's class is not."""
import io
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir)
PLUGINS = os.path.normpath(os.path.join(ROOT, 'plugins'))
ALLOWED = os.path.join(PLUGINS, 'module_utils', 'platform') + os.sep

_NAME = r'''['"](?:k8s|compose|kubernetes|docker)['"]'''
CHECKS = [
    ('compares the platform', re.compile(r'(?:\[[\'"]platform[\'"]\]|\.get\([\'"]platform[\'"]\)|(?<![\'"])\bplatform\b(?![\'"]))'
                                         r'\s*(?:==|!=|\bin\b|\bnot\s+in\b)')),
    ('compares with a platform name', re.compile(r'(?:==|!=|\bin\s*[\(\[{]?)\s*' + _NAME)),
    ('compares a platform name', re.compile(_NAME + r'\s*(?:==|!=|\bin\b)')),
    ('keys a table by platform name', re.compile(_NAME + r'\s*:\s*(?:dict\(|\{)')),
    ('looks up by platform', re.compile(r'(?:\.get\(|\[)\s*(?:\w+\.)*platform\s*[\],)]')),
    ('tests an adapter class', re.compile(r'isinstance\([^)]*(?:Compose|Kubernetes)\w*Adapter')),
    ('tests for an adapter method', re.compile(r'hasattr\(\s*\w*adapter')),
]


def _sources():
    for directory, _dirs, files in os.walk(PLUGINS):
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                if not path.startswith(ALLOWED):
                    yield path


def platform_checks(paths):
    """['file:line: what: code'] for every platform check in ``paths``."""
    found = []
    for path in paths:
        with io.open(path, encoding='utf-8') as handle:
            for number, line in enumerate(handle, 1):
                code = line.split('#', 1)[0]
                for what, pattern in CHECKS:
                    if pattern.search(code):
                        found.append('%s:%d: %s: %s' % (os.path.relpath(path, ROOT), number, what, line.strip()))
                        break
    return found


def test_no_code_outside_platform_checks_the_platform():
    found = platform_checks(_sources())
    assert not found, 'platform checks outside plugins/module_utils/platform/ (ask a capability of the ' \
                      'adapter instead, see platform/base.py):\n' + '\n'.join(found)


@pytest.mark.parametrize('code', [
    "    if adapter.platform == 'k8s':",
    "    if unpin and adapter.platform != 'compose':",
    "    if params['platform'] == 'compose':",
    "    if module.params['platform'] in ('k8s',):",
    "    elif whole_stack and 'compose' == adapter.platform:",
    "    'compose': dict(selector=False, previous=False),",
    "    features = _LOG_FEATURES.get(adapter.platform, {})",
    "    features = _LOG_FEATURES[platform]",
    "    if isinstance(adapter, KubernetesAdapter):",
    "    if hasattr(adapter, 'unpin'):",
])
def test_the_grep_finds_each_kind_of_check(tmp_path, code):
    path = tmp_path / 'sample.py'
    path.write_text(code + '\n')
    assert len(platform_checks([str(path)])) == 1


@pytest.mark.parametrize('code', [
    "        truncated=found['truncated'], target=adapter.describe(), platform=adapter.platform,",
    "        platform=dict(type='str', required=True, choices=['compose', 'k8s']),",
    "    if adapter.rolling_restart:",
    "    # adapter.platform == 'k8s' was the old way",
    "    if 'platform' in p['checks'] and p['log_lines']:",
])
def test_reporting_the_platform_is_not_a_check(tmp_path, code):
    path = tmp_path / 'sample.py'
    path.write_text(code + '\n')
    assert platform_checks([str(path)]) == []
