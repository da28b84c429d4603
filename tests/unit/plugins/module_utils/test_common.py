import hashlib

import pytest

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint, run_module
from ansible_collections.quickbite.ops.plugins.module_utils.errors import ConfigError


def test_fingerprint_is_first_8_hex_of_sha256():
    assert fingerprint('s3cret') == hashlib.sha256(b's3cret').hexdigest()[:8]
    assert fingerprint(None) is None
    assert fingerprint(b'x') == fingerprint('x')


def test_rotation_spec_matches_doc_fragment():
    import yaml
    from ansible_collections.quickbite.ops.plugins.doc_fragments.rotation import ModuleDocFragment
    from ansible_collections.quickbite.ops.plugins.module_utils.rotation.procedures import rotation_argument_spec
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = rotation_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]['type'] == option['type'] and documented[name].get('default') == option.get('default')


class _Module(object):
    """AnsibleModule's exits as exceptions carrying the result."""

    def __init__(self):
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **result):
        raise _Exit('exit', result)

    def fail_json(self, **result):
        raise _Exit('fail', result)


class _Exit(Exception):
    pass


def _run(work):
    module = _Module()
    with pytest.raises(_Exit) as info:
        run_module(module, work)
    return info.value.args[0], info.value.args[1], module.warnings


def test_run_module_exits_with_the_result_and_shows_its_warnings():
    how, result, warnings = _run(lambda module: dict(changed=True, msg='done', warnings=['look at this']))
    assert (how, result, warnings) == ('exit', dict(changed=True, msg='done'), ['look at this'])


def test_run_module_fails_with_the_message_and_evidence_of_a_typed_error():
    def work(module):
        raise ConfigError('quickbite_platform is not set; set it in the inventory', evidence=['a', 'b'])
    how, result, warnings = _run(work)
    assert (how, result, warnings) == ('fail', dict(msg='quickbite_platform is not set; set it in the inventory',
                                                    evidence=['a', 'b']), [])


def test_run_module_fails_with_a_result_marked_failed():
    how, result, _warnings = _run(lambda module: dict(failed=True, msg='DOWN', changed=False, status='DOWN'))
    assert (how, result) == ('fail', dict(msg='DOWN', changed=False, status='DOWN'))


def test_run_module_lets_other_errors_through():
    def work(module):
        raise KeyError('bug')
    with pytest.raises(KeyError):
        run_module(_Module(), work)


class _LockingAdapter(object):
    def __init__(self):
        self.events = []

    def lock(self, procedure):
        adapter = self

        class _Held(object):
            def __enter__(self):
                adapter.events.append('lock %s' % procedure)

            def __exit__(self, *exc):
                adapter.events.append('release')
                return False
        return _Held()


def _run_on_target(monkeypatch, check_mode, work):
    from ansible_collections.quickbite.ops.plugins.module_utils import common
    adapter = _LockingAdapter()
    monkeypatch.setattr(common.factory, 'get_adapter', lambda module: adapter)
    module = _Module()
    module.check_mode = check_mode
    with pytest.raises(_Exit) as info:
        common.run_on_target(module, 'scale backend', work)
    return info.value.args, adapter.events


def test_run_on_target_runs_the_work_under_the_target_lock(monkeypatch):
    def work(module, adapter):
        adapter.events.append('work')
        return dict(changed=True)
    (how, result), events = _run_on_target(monkeypatch, False, work)
    assert (how, result, events) == ('exit', dict(changed=True), ['lock scale backend', 'work', 'release'])


def test_run_on_target_takes_no_lock_in_check_mode(monkeypatch):
    def work(module, adapter):
        adapter.events.append('work')
        return dict(changed=True)
    (how, result), events = _run_on_target(monkeypatch, True, work)
    assert (how, events) == ('exit', ['work'])


def test_run_on_target_releases_the_lock_and_fails_on_a_typed_error(monkeypatch):
    def work(module, adapter):
        raise ConfigError('service nope not found; set scale_service to one of backend, frontend')
    (how, result), events = _run_on_target(monkeypatch, False, work)
    assert how == 'fail' and result['msg'].startswith('service nope not found')
    assert events == ['lock scale backend', 'release']
