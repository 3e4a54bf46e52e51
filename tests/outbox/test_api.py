"""The outbox's public API on the real database and broker: bulk enqueue, groups held and released, counts by
status, dedupe keys taken."""

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox import api as outbox_api
from outbox import delivery as outbox_delivery
from outbox.models import OutboxHold, OutboxMessage

Status = OutboxMessage.Status


def _published_ids(celery_queue) -> list[list[int]]:
    """The id lists of every delivery task waiting in this test's queue on the real Redis."""
    client = redis.Redis.from_url(celery_queue["broker_url"])
    raw = client.lrange(celery_queue["queue"], 0, -1)
    client.close()
    return [json.loads(base64.b64decode(json.loads(item)["body"]))[0][0] for item in raw]


def _grouped(to, *, group="campaign:1", **extra):
    return outbox_api.mail_enqueue_rendered(
        template="outbox_test/plain", to=to, language="en", subject="Hello", body_text="Body\n", group=group, **extra
    )


def _mails(*addresses, dedupe=False):
    return [
        outbox_api.Mail(
            template="outbox_test/plain",
            to=address,
            language="da",
            subject="Nyt",
            body_text=f"Til {address}\n",
            headers={"List-Id": "<news.example>"},
            dedupe_key=f"bulk:{address}" if dedupe else None,
        )
        for address in addresses
    ]


@pytest.mark.django_db
def test_bulk_enqueue_writes_every_mail_into_its_group_in_order():
    ids = outbox_api.mails_enqueue_bulk(mails=_mails("a@example.com", "b@example.com"), group="g", publish=False)
    rows = list(OutboxMessage.objects.order_by("pk").values_list("pk", "to", "group_key", "status", "headers"))
    assert rows == [
        (ids[0], "a@example.com", "g", Status.QUEUED, {"List-Id": "<news.example>"}),
        (ids[1], "b@example.com", "g", Status.QUEUED, {"List-Id": "<news.example>"}),
    ]


@pytest.mark.django_db
def test_bulk_enqueue_refuses_a_dedupe_key_already_taken():
    outbox_api.mails_enqueue_bulk(mails=_mails("a@example.com", dedupe=True), publish=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        outbox_api.mails_enqueue_bulk(mails=_mails("b@example.com", "a@example.com", dedupe=True), publish=False)
    assert list(OutboxMessage.objects.values_list("to", flat=True)) == ["a@example.com"]


@pytest.mark.django_db(transaction=True)
def test_bulk_enqueue_publishes_in_batches_once_the_transaction_commits(settings, celery_queue):
    settings.OUTBOX_BATCH_SIZE = 2
    with transaction.atomic():
        ids = outbox_api.mails_enqueue_bulk(mails=_mails("a@example.com", "b@example.com", "c@example.com"))
        outbox_api.background_publishes_wait()
        assert _published_ids(celery_queue) == []
    outbox_api.background_publishes_wait()
    assert sorted(_published_ids(celery_queue)) == [ids[:2], ids[2:]]


@pytest.mark.django_db
def test_holding_a_group_holds_its_waiting_mail_only():
    _grouped("waiting@example.com")
    deferred, sent, other = (_grouped(f"{n}@example.com") for n in ("deferred", "sent", "other"))
    OutboxMessage.objects.filter(pk=deferred.pk).update(status=Status.RETRYING, failure="transient")
    OutboxMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)
    OutboxMessage.objects.filter(pk=other.pk).update(group_key="campaign:2")
    assert outbox_api.group_hold(group="campaign:1") == 2
    assert dict(OutboxMessage.objects.values_list("to", "status")) == {
        "waiting@example.com": Status.HELD,
        "deferred@example.com": Status.HELD,
        "sent@example.com": Status.SENT,
        "other@example.com": Status.QUEUED,
    }
    assert list(OutboxHold.objects.values_list("group_key", flat=True)) == ["campaign:1"]


@pytest.mark.django_db
def test_a_held_mail_is_never_claimed():
    message = _grouped("ada@example.com")
    outbox_api.group_hold(group="campaign:1")
    assert outbox_delivery.message_claim(pk=message.pk) is None
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 0, "skipped": 1}
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.HELD


@pytest.mark.django_db
def test_mail_written_into_a_held_group_is_held_and_not_published(settings):
    settings.OUTBOX_DELIVER = True  # a publish would reach for the broker, which this test does not have
    outbox_api.group_hold(group="campaign:1")
    with transaction.atomic():
        single = _grouped("one@example.com")
        bulk = outbox_api.mails_enqueue_bulk(mails=_mails("two@example.com"), group="campaign:1")
    assert list(OutboxMessage.objects.filter(pk__in=[single.pk, *bulk]).values_list("status", flat=True)) == [
        Status.HELD,
        Status.HELD,
    ]


@pytest.mark.django_db
def test_release_queues_the_held_mail_afresh_and_returns_its_ids():
    first, second = _grouped("a@example.com"), _grouped("b@example.com")
    OutboxMessage.objects.filter(pk=second.pk).update(status=Status.RETRYING, failure="transient")
    outbox_api.group_hold(group="campaign:1")
    before = timezone.now()
    assert outbox_api.group_release(group="campaign:1", publish=False) == [first.pk, second.pk]
    rows = list(OutboxMessage.objects.order_by("pk"))
    assert [(row.status, row.failure) for row in rows] == [(Status.QUEUED, ""), (Status.QUEUED, "")]
    assert all(before <= row.next_attempt_at <= timezone.now() for row in rows)
    assert not OutboxHold.objects.exists()
    assert outbox_delivery.message_claim(pk=first.pk).status == Status.SENDING


@pytest.mark.django_db(transaction=True)
def test_a_stuck_mail_of_a_held_group_goes_back_to_held_not_to_the_queue(settings, celery_queue):
    settings.OUTBOX_STUCK_AFTER_SECONDS = 300
    stuck, loose = _grouped("stuck@example.com"), _grouped("loose@example.com", group="")
    OutboxMessage.objects.filter(pk__in=[stuck.pk, loose.pk]).update(
        status=Status.SENDING, attempts=1, sending_started_at=timezone.now() - timedelta(seconds=301)
    )
    outbox_api.group_hold(group="campaign:1")
    outbox_api.background_publishes_wait()
    redis.Redis.from_url(celery_queue["broker_url"]).delete(celery_queue["queue"])
    assert outbox_delivery.outbox_sweep() == {"requeued_stuck": 2, "published": 1}
    assert dict(OutboxMessage.objects.values_list("to", "status")) == {
        "stuck@example.com": Status.HELD,
        "loose@example.com": Status.QUEUED,
    }
    assert _published_ids(celery_queue) == [[loose.pk]]


@pytest.mark.django_db
def test_a_batch_stopped_by_its_sender_hands_rows_back_held_only_when_the_group_is_held(smtp_sink):
    held_group = [_grouped(f"h{n}@example.com") for n in range(2)]
    free_group = [_grouped(f"f{n}@example.com", group="campaign:2") for n in range(2)]

    def stop_and_hold():
        outbox_api.group_hold(group="campaign:1")
        return False

    assert outbox_delivery.messages_deliver_batch(ids=[m.pk for m in held_group], proceed=stop_and_hold) == {
        "sent": 0,
        "failed": 0,
        "skipped": 2,
    }
    assert outbox_delivery.messages_deliver_batch(ids=[m.pk for m in free_group], proceed=lambda: False) == {
        "sent": 0,
        "failed": 0,
        "skipped": 2,
    }
    assert sorted(OutboxMessage.objects.values_list("to", "status", "attempts")) == [
        ("f0@example.com", Status.QUEUED, 0),
        ("f1@example.com", Status.QUEUED, 0),
        ("h0@example.com", Status.HELD, 0),
        ("h1@example.com", Status.HELD, 0),
    ]
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_a_copy_deferred_after_its_group_was_held_waits_held(settings):
    from tests.support.services import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 1},
        }
    }
    message = _grouped("ada@example.com")

    def hold_while_on_the_wire():
        outbox_api.group_hold(group="campaign:1")
        return True

    counts = outbox_delivery.messages_deliver_batch(ids=[message.pk], proceed=hold_while_on_the_wire)
    assert counts == {"sent": 0, "failed": 1, "skipped": 0}
    message.refresh_from_db()
    assert (message.status, message.failure, message.attempts) == (Status.HELD, "transient", 1)


@pytest.mark.django_db
def test_group_status_counts_name_every_status_from_the_rows():
    rows = [_grouped(f"{n}@example.com") for n in range(5)]
    OutboxMessage.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(status=Status.SENT)
    OutboxMessage.objects.filter(pk=rows[2].pk).update(status=Status.FAILED)
    _grouped("elsewhere@example.com", group="campaign:2")
    assert outbox_api.group_status_counts(group="campaign:1") == {
        "queued": 2,
        "sending": 0,
        "sent": 2,
        "retrying": 0,
        "failed": 1,
        "cancelled": 0,
        "held": 0,
    }
    OutboxMessage.objects.filter(pk=rows[0].pk).delete()  # a row that is gone is not counted as anything
    assert outbox_api.group_status_counts(group="campaign:1")["sent"] == 1


@pytest.mark.django_db
def test_dedupe_keys_taken_by_keys_or_by_prefix():
    for key in ("reminder:1:24", "reminder:2:24", "other:1"):
        _grouped(f"{key}@example.com".replace(":", "-"), group="", dedupe_key=key)
    assert outbox_api.dedupe_keys_taken(keys=["reminder:1:24", "reminder:3:24"]) == {"reminder:1:24"}
    assert outbox_api.dedupe_keys_taken(prefix="reminder:") == {"reminder:1:24", "reminder:2:24"}
    assert outbox_api.dedupe_keys_taken(keys=["other:1", "reminder:2:24"], prefix="reminder:") == {"reminder:2:24"}
    assert outbox_api.dedupe_keys_taken(keys=[]) == set()
