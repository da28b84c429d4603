import hashlib

from ansible_collections.quickbite.ops.plugins.module_utils.common import fingerprint, platform_argument_spec


def test_fingerprint_is_first_8_hex_of_sha256():
    assert fingerprint('s3cret') == hashlib.sha256(b's3cret').hexdigest()[:8]
    assert fingerprint(None) is None
    assert fingerprint(b'x') == fingerprint('x')


def test_platform_spec_matches_doc_fragment():
    import yaml
    from ansible_collections.quickbite.ops.plugins.doc_fragments.platform import ModuleDocFragment
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = platform_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]['type'] == option['type'], name
        assert documented[name].get('default') == option.get('default'), name


def test_rotation_spec_matches_doc_fragment():
    import yaml
    from ansible_collections.quickbite.ops.plugins.doc_fragments.rotation import ModuleDocFragment
    from ansible_collections.quickbite.ops.plugins.module_utils.rotation.procedures import rotation_argument_spec
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = rotation_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, option in spec.items():
        assert documented[name]['type'] == option['type'] and documented[name].get('default') == option.get('default')
