import pytest

from ansible_collections.quickbite.ops.plugins.module_utils import _mask


@pytest.mark.parametrize('key, secret', [
    ('JWT_SECRET', True), ('JWT_SECRET_PREVIOUS', True), ('DB_PASSWORD', True), ('POSTGRES_PASSWORD', True),
    ('PAYMENT_WEBHOOK_SECRET', True), ('REDIS_PASSWORD', True), ('RAZORPAY_KEY_ID', True), ('api_token', True),
    ('DB_USER', False), ('SERVER_PORT', False), ('DB_HOST', False), ('QUICKBITE_VERSION', False),
])
def test_default_secret_keys(key, secret):
    assert _mask.is_secret_key(key, _mask.DEFAULT_SECRET_KEYS) is secret


def test_longest_value_first_and_short_values_left_alone():
    masker = _mask.Masker(['abcd', 'abcdefgh', 'on', '', None])
    assert masker.values == ['abcdefgh', 'abcd']
    assert masker.lines(['x=abcdefgh y=abcd z=on']) == ['x=******** y=******** z=on']
    assert _mask.Masker().lines(['abcd']) == ['abcd']
