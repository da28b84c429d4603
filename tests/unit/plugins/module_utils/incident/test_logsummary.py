"""The error summary: distinct messages, counts, first and last time."""
from ansible_collections.quickbite.ops.plugins.module_utils.incident.logsummary import message_key, summarize

BACKEND = [
    '2026-11-30T08:49:09.264Z ERROR 7 --- [quickbite] [o-18080-exec-29] c.q.b.OrderService : order 17 failed',
    '2026-11-30T08:49:10.000Z  INFO 7 --- [quickbite] [o-18080-exec-30] c.q.b.web : GET /actuator/health -> 200',
    '2026-11-30T08:49:12.500Z ERROR 7 --- [quickbite] [io-18080-exec-3] c.q.b.OrderService : order 18 failed',
    'java.lang.IllegalStateException: pool exhausted',
]
POSTGRES = ['2026-11-30 08:42:12.808 UTC [2381] quickbite@quickbite FATAL:  password authentication failed']


def test_repeats_are_one_message_with_count_and_first_and_last_time():
    total, errors = summarize([('backend', BACKEND), ('postgres', POSTGRES)])
    assert total == 4
    assert errors[0] == dict(service='backend', message='ERROR # --- c.q.b.OrderService : order # failed', count=2,
                             first='2026-11-30T08:49:09.264Z', last='2026-11-30T08:49:12.500Z', example=BACKEND[0])
    assert [(e['service'], e['count'], e['first']) for e in errors[1:]] == [
        ('backend', 1, None), ('postgres', 1, '2026-11-30 08:42:12.808')]


def test_info_lines_are_not_errors_and_the_limit_holds():
    assert summarize([('backend', [BACKEND[1]])]) == (0, [])
    lines = ['ERROR distinct message %s' % chr(97 + i) for i in range(5)]
    total, errors = summarize([('x', lines)], limit=3)
    assert total == 5 and len(errors) == 3


def test_message_key_drops_what_differs_between_repeats():
    assert message_key('2026-11-30T01:02:03Z ERROR [t-1] id 0123abcd4567ef89 for 42') == 'ERROR id # for #'
