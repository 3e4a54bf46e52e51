"""The outbox services on the real database and broker: enqueue, dedupe, rendering, claiming, retries, sweeping."""

import base64
import json
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from django.db import connections, transaction
from django.utils import timezone

from outbox import api as outbox_api
from outbox import delivery as outbox_delivery
from outbox.models import OutboxMessage
from tests.support.services import free_port, require_postgres

Status = OutboxMessage.Status
MAIL_TEMPLATES = Path(__file__).resolve().parent / "mail_templates"


def _plain(to="ada@example.com", **extra):
    return outbox_api.mail_enqueue_rendered(
        template="outbox_test/plain", to=to, language="en", subject="Hello", body_text="Body\n", **extra
    )


def _published_ids(celery_queue) -> list[list[int]]:
    """The id lists of every delivery task waiting in this test's queue on the real Redis."""
    client = redis.Redis.from_url(celery_queue["broker_url"])
    raw = client.lrange(celery_queue["queue"], 0, -1)
    client.close()
    bodies = [json.loads(base64.b64decode(json.loads(item)["body"])) for item in raw]
    return [body[0][0] for body in bodies]


@pytest.fixture
def mail_templates(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], MAIL_TEMPLATES]}]


@pytest.mark.django_db(transaction=True)
def test_enqueue_in_a_rolled_back_transaction_leaves_no_row_and_publishes_nothing(celery_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        _plain()
        raise RuntimeError("the change that owed the mail failed")
    outbox_api.background_publishes_wait()
    assert OutboxMessage.objects.count() == 0
    assert _published_ids(celery_queue) == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_publishes_its_row_once_the_transaction_commits(celery_queue):
    with transaction.atomic():
        message = _plain()
        outbox_api.background_publishes_wait()
        assert _published_ids(celery_queue) == []
    outbox_api.background_publishes_wait()
    assert _published_ids(celery_queue) == [[message.pk]]


@pytest.mark.django_db
def test_a_second_enqueue_with_the_same_dedupe_key_returns_none():
    first = _plain(dedupe_key="event-7-confirmation-ada")
    second = _plain(dedupe_key="event-7-confirmation-ada")
    assert first is not None
    assert second is None
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [first.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "body_text", "body_html"),
    [
        ("da", "januar da", "Language da: mandag.\n", '<p lang="da">mandag</p>\n'),
        ("en", "January en", "Language en: Monday.\n", '<p lang="en">Monday</p>\n'),
    ],
)
def test_enqueue_renders_subject_text_and_html_in_the_recipients_language(
    mail_templates, language, subject, body_text, body_html
):
    message = outbox_api.mail_enqueue(
        template="outbox_test/greeting", to="ada@example.com", language=language, context={"when": date(2026, 1, 5)}
    )
    message.refresh_from_db()
    # The mail's own content, inside the branded layout (tests/outbox/test_mail_layout.py).
    assert (message.language, message.subject, message.body_text.split("\n\n-- \n")[0] + "\n") == (
        language,
        subject,
        body_text,
    )
    assert body_html in message.body_html
    assert (message.status, message.attempts, message.last_error) == (Status.QUEUED, 0, "")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claimers_never_claim_the_same_row():
    require_postgres()
    ids = [_plain(to=f"person{n}@example.com").pk for n in range(60)]
    barrier = threading.Barrier(2)
    claimed = {"a": [], "b": []}

    def claim_all(name):
        try:
            barrier.wait()
            for pk in ids:
                if outbox_delivery.message_claim(pk=pk) is not None:
                    claimed[name].append(pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim_all, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(claimed["a"]).isdisjoint(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(ids)
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {(Status.SENDING, 1)}


@pytest.mark.django_db(transaction=True)
def test_claim_skips_a_row_another_worker_holds_without_waiting():
    require_postgres()
    message = _plain()
    held = threading.Event()
    release = threading.Event()

    def hold():
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=message.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=10)
    started = time.monotonic()
    claimed = outbox_delivery.message_claim(pk=message.pk)
    elapsed = time.monotonic() - started
    release.set()
    holder.join(timeout=30)
    assert claimed is None
    assert elapsed < 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.QUEUED, 0)


@pytest.fixture
def closed_smtp(settings):
    """The mailer points at a port where no SMTP server listens: every send fails with a refused connection."""
    from dlsc.settings import mailer_from_url

    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{free_port()}")}


@pytest.mark.django_db
def test_an_smtp_failure_leaves_the_row_retrying_after_the_backoff_delay(settings, closed_smtp):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = _plain()
    before = timezone.now()
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 1, "skipped": 0}
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.RETRYING, 1)
    assert message.last_error.startswith("ConnectionRefusedError:")
    assert before + timedelta(seconds=30) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=30)


@pytest.mark.django_db
def test_the_backoff_doubles_with_each_failed_attempt(settings, closed_smtp):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = _plain()
    outbox_delivery.messages_deliver(ids=[message.pk])
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    outbox_delivery.messages_deliver(ids=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.RETRYING, 2)
    assert before + timedelta(seconds=60) <= message.next_attempt_at <= timezone.now() + timedelta(seconds=60)


@pytest.mark.django_db
def test_an_unreachable_server_is_retried_past_max_attempts_until_the_lifetime_ends(settings, closed_smtp):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_TRANSIENT_LIFETIME_SECONDS = 3600
    message = _plain()
    for _ in range(4):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        outbox_delivery.messages_deliver(ids=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts, message.failure) == (Status.RETRYING, 4, "transient")
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(seconds=3601)
    )
    outbox_delivery.messages_deliver(ids=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts, message.failure) == (Status.FAILED, 5, "transient")
    assert message.last_error.startswith("ConnectionRefusedError:")
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 0, "skipped": 1}


@pytest.mark.django_db
def test_a_retrying_row_is_not_sent_before_its_next_attempt(smtp_sink):
    message = _plain()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.RETRYING, attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 0, "failed": 0, "skipped": 1}
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_delivery_sends_the_row_and_marks_it_sent(smtp_sink):
    message = _plain(reply_to="office@example.com", headers={"X-Campaign": "7"})
    assert outbox_delivery.messages_deliver(ids=[message.pk]) == {"sent": 1, "failed": 0, "skipped": 0}
    received = smtp_sink.wait_for(1)
    assert [(m["To"], m["Subject"], m["Reply-To"], m["X-Campaign"]) for m in received] == [
        ("ada@example.com", "Hello", "office@example.com", "7")
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 1, "")
    assert message.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_requeues_rows_stuck_in_sending(settings, celery_queue):
    settings.OUTBOX_STUCK_AFTER_SECONDS = 300
    stuck, busy = _plain(to="stuck@example.com"), _plain(to="busy@example.com")
    now = timezone.now()
    OutboxMessage.objects.filter(pk=stuck.pk).update(
        status=Status.SENDING, attempts=1, sending_started_at=now - timedelta(seconds=301)
    )
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status=Status.SENDING, attempts=1, sending_started_at=now - timedelta(seconds=10)
    )
    outbox_api.background_publishes_wait()
    redis.Redis.from_url(celery_queue["broker_url"]).delete(celery_queue["queue"])
    assert outbox_delivery.outbox_sweep() == {"requeued_stuck": 1, "published": 1}
    assert dict(OutboxMessage.objects.values_list("to", "status")) == {
        "stuck@example.com": Status.QUEUED,
        "busy@example.com": Status.SENDING,
    }
    assert _published_ids(celery_queue) == [[stuck.pk]]


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_republishes_queued_rows_nobody_picked_up(settings, celery_queue):
    settings.OUTBOX_REQUEUE_AFTER_SECONDS = 60
    forgotten, fresh = _plain(to="forgotten@example.com"), _plain(to="fresh@example.com")
    OutboxMessage.objects.filter(pk=forgotten.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=61))
    outbox_api.background_publishes_wait()
    redis.Redis.from_url(celery_queue["broker_url"]).delete(celery_queue["queue"])
    assert outbox_delivery.outbox_sweep() == {"requeued_stuck": 0, "published": 1}
    assert _published_ids(celery_queue) == [[forgotten.pk]]
    assert outbox_delivery.outbox_sweep() == {"requeued_stuck": 0, "published": 0}
    assert fresh.pk not in {pk for ids in _published_ids(celery_queue) for pk in ids}


@pytest.mark.django_db
def test_outbox_backlog_counts_every_unsent_status():
    rows = {status: n for n, status in enumerate([Status.QUEUED, Status.RETRYING, Status.SENDING, Status.FAILED], 1)}
    for status, count in rows.items():
        for n in range(count):
            message = _plain(to=f"{status}{n}@example.com")
            OutboxMessage.objects.filter(pk=message.pk).update(status=status)
    OutboxMessage.objects.filter(pk=_plain(to="sent@example.com").pk).update(status=Status.SENT)
    backlog = outbox_api.outbox_backlog()
    assert {key: backlog[key] for key in ("queued", "retrying", "sending", "failed")} == {
        "queued": 1,
        "retrying": 2,
        "sending": 3,
        "failed": 4,
    }


@pytest.mark.django_db
def test_sent_mail_older_than_the_retention_loses_its_bodies_and_the_rest_is_kept_whole(settings):
    settings.OUTBOX_RETENTION_DAYS = 365
    now = timezone.now()
    ages = {"old-sent": (Status.SENT, 366), "young-sent": (Status.SENT, 364), "old-failed": (Status.FAILED, 400)}
    for to, (status, days) in ages.items():
        message = _plain(to=f"{to}@example.com")
        OutboxMessage.objects.filter(pk=message.pk).update(status=status, sent_at=now - timedelta(days=days))
    assert outbox_api.sent_mail_bodies_due_count(now=now) == 1
    assert outbox_api.sent_mail_bodies_empty(now=now) == 1
    assert outbox_api.sent_mail_bodies_empty(now=now) == 0
    assert sorted(OutboxMessage.objects.values_list("to", "status", "body_text")) == [
        ("old-failed@example.com", "failed", "Body\n"),
        ("old-sent@example.com", "sent", ""),
        ("young-sent@example.com", "sent", "Body\n"),
    ]
