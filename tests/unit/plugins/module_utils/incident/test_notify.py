"""Notifications against real HTTP receivers on 127.0.0.1."""
import time

from ansible_collections.quickbite.ops.plugins.module_utils._mask import Masker
from ansible_collections.quickbite.ops.plugins.module_utils.incident import notify

from tests.unit.plugins.module_utils.incident.receivers import Hanging, Receiver

REPORT = dict(target='compose project in /opt/quickbite',
              severity=dict(level='P1', reason='backend is down; token s3cr3t-value leaked', response_time='15 min'),
              report_lines=['P1 on compose project: backend is down', 'health   failed    DOWN: s3cr3t-value'])


def test_slack_and_webhook_bodies_retry_a_failing_receiver_and_mask_secrets():
    facts = notify.content('findings', 'inc-1', REPORT, REPORT['target'])
    with Receiver(failures=2) as slack, Receiver() as hook:
        result = notify.send([dict(name='slack', kind='slack', url=slack.url), dict(name='hook', kind='webhook',
                                                                                    url=hook.url)],
                             facts, Masker(['s3cr3t-value']), timeout=2, deadline=10, retries=3,
                             sleep=lambda s: time.sleep(0.05))
    assert [(d['receiver'], d['delivered'], d['attempts']) for d in result] == [('slack', True, 3), ('hook', True, 1)]
    assert result[0]['summary'] == 'delivered (HTTP 200, attempt 3)'
    message = slack.bodies[0]
    assert message['text'] == 'P1 incident inc-1: backend is down; token ******** leaked'
    assert [b['type'] for b in message['blocks']] == ['header', 'section', 'context']
    assert 'respond within 15 min' in message['blocks'][2]['elements'][0]['text']
    generic = hook.bodies[0]
    assert generic['incident_id'] == 'inc-1' and generic['phase'] == 'findings' and generic['severity'] == 'P1'
    assert generic['lines'][1] == 'health   failed    DOWN: ********'
    assert 's3cr3t-value' not in repr(slack.bodies + hook.bodies)


def test_a_hung_receiver_is_reported_within_its_deadline_and_a_dead_one_after_its_retries():
    facts = notify.content('start', 'inc-2', None, 'namespace quickbite')
    with Hanging() as hung, Receiver(failures=99) as failing, Receiver() as fine:
        started = time.monotonic()
        result = notify.send([dict(name='hung', kind='webhook', url=hung.url),
                              dict(name='failing', kind='slack', url=failing.url),
                              dict(name='fine', kind='webhook', url=fine.url)],
                             facts, Masker(), timeout=1, deadline=2, retries=1, sleep=lambda s: None)
        took = time.monotonic() - started
    assert took < 4.5, took
    by_name = dict((d['receiver'], d) for d in result)
    assert not by_name['hung']['delivered'] and 'timed out' in by_name['hung']['summary']
    assert not by_name['failing']['delivered']
    assert by_name['failing']['summary'] == 'not delivered after 2 attempt(s): HTTP 500'
    assert by_name['fine']['delivered'] and fine.bodies[0]['title'] == 'Incident inc-2: collecting evidence on ' \
        'namespace quickbite'
