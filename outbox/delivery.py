"""Delivering the outbox: publishing rows to Celery, claiming them, sending them one by one or in bulk over one
SMTP connection, recording a failure as its kind demands (retry with backoff, give up, or halt delivery), and the
sweep that re-queues what a dead worker left and re-publishes what nobody picked up.

A held row (its group is held by its sender) is never claimed, swept or published; a claimed row handed back
while its group is held goes back to held, not to the queue."""

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from common.locks import locked
from outbox.models import DeliveryHalt, OutboxHold, OutboxMessage
from outbox.rendering import message_render
from outbox.selectors import delivery_halted, group_is_held
from outbox.smtp import (
    SESSION_REFUSED,
    connection_close,
    envelope_address,
    error_text,
    failure_classify,
    message_build,
    message_bytes,
    smtp_mail_finish,
    smtp_mail_start,
)

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Failure = OutboxMessage.Failure
CLAIMABLE = (Status.QUEUED, Status.RETRYING)


def queued_unless_held():
    """The status for a row going back to the queue: held when its group is held, else queued."""
    group_held = Exists(OutboxHold.objects.filter(group_key=OuterRef("group_key")))
    return Case(When(~Q(group_key="") & group_held, then=Value(Status.HELD)), default=Value(Status.QUEUED))


_background = {"pid": None, "executor": None}


def publish_in_background(publish: Callable[[], object]) -> None:
    """Hand a broker publish to this process's publishing thread: the request that owes it answers at once, however
    slow or frozen the broker is. One thread per process keeps publishes in order; one that fails, or never runs
    because the process ends first, leaves its rows queued for the sweeper."""
    if _background["pid"] != os.getpid():  # a forked worker child does not inherit the parent's thread
        _background.update(
            pid=os.getpid(), executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-publish")
        )
    _background["executor"].submit(_publish_logged, publish)


def _publish_logged(publish: Callable[[], object]) -> None:
    try:
        publish()
    except Exception:  # nothing is lost: the rows stay queued for the sweeper
        logger.exception("outbox: a background publish failed")


def background_publishes_wait(timeout: float = 30) -> None:
    """Wait until every publish handed to the publishing thread so far has run."""
    if _background["pid"] == os.getpid():
        _background["executor"].submit(lambda: None).result(timeout=timeout)


def delivery_publish(*, ids: list[int]) -> bool:
    """Ask a worker to deliver these rows. Never raises: a row left unpublished is found by the sweeper."""
    if not settings.OUTBOX_DELIVER or not ids:
        return False
    from outbox.tasks import outbox_deliver_task

    try:
        outbox_deliver_task.apply_async(args=[ids], retry=False)
    except Exception as exc:  # the broker is down or slow: the sweeper re-publishes later
        logger.warning("outbox: could not publish delivery of %s rows: %s", len(ids), exc)
        return False
    return True


def message_claim(*, pk: int) -> OutboxMessage | None:
    """Move a due row to "sending" for this worker; None when it is not due, held, or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        message = locked(
            OutboxMessage.objects.filter(pk=pk, status__in=CLAIMABLE, next_attempt_at__lte=now), skip_locked=True
        ).first()
        if message is None:
            return None
        message.mark_sending(now=now)
        message.save(update_fields=["status", "sending_started_at", "attempts"])
    return message


def messages_deliver(*, ids: list[int]) -> dict:
    """Claim and send each row over one SMTP connection; every row is marked in its own transaction, so a
    worker killed mid-batch leaves at most the row that was on the wire to be sent twice. A row written to be
    rendered by the worker (`outbox.rendering`) is rendered first; bulk mail (`messages_deliver_batch`) never is."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    if delivery_halted() is not None:
        counts["skipped"] = len(ids)
        return counts
    connection = None
    try:
        for position, pk in enumerate(ids):
            message = message_claim(pk=pk)
            if message is None:
                counts["skipped"] += 1
                continue
            try:
                if not message_render(message):  # written to be rendered here, and no longer owed
                    counts["skipped"] += 1
                    continue
                if connection is None:
                    connection = mailers.default
                    connection.open()
                connection.send_messages([message_build(message)])
            except Exception as exc:
                if connection is not None:
                    connection_close(connection)
                    connection = None
                if _message_fail(message=message, error=exc) == SESSION_REFUSED:
                    counts["skipped"] += len(ids) - position
                    break
                counts["failed"] += 1
                continue
            message.mark_sent(now=timezone.now())
            message.save(update_fields=["status", "sent_at", "last_error"])
            counts["sent"] += 1
    finally:
        if connection is not None:
            connection_close(connection)
    return counts


def messages_deliver_batch(*, ids: list[int], proceed: Callable[[], bool] | None = None) -> dict:
    """Like messages_deliver, for bulk mail: the batch is claimed with one locking statement, each message is
    serialised on the fast path, and a copy the server accepted is marked sent before the next copy's data goes
    out, in a transaction that does not wait for the WAL flush (a worker killed at any point still leaves only
    the row on the wire to be sent twice; only a crash of PostgreSQL itself could forget the last few "sent"
    marks, and those rows are sent again, never lost). `proceed()` is asked before each copy's recipient is
    named; when it says no (a campaign was paused), the rows not yet sent go back to the queue with their
    next_attempt_at untouched (to "held" when their group is held), and nothing more is sent. A long batch
    renews its claim well before the sweeper would take its rows for stuck, and drops any row that is no longer
    its own.

    The database work for a copy (marking the previous one sent, asking `proceed()`) runs while its MAIL FROM
    command is on its way to the server and back: the command is written first and its reply read afterwards,
    so those round trips overlap instead of adding to each copy's SMTP exchange."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    if delivery_halted() is not None:
        counts["skipped"] = len(ids)
        return counts
    claimed, stamp = _messages_claim(ids=ids)
    counts["skipped"] = len(ids) - len(claimed)
    owned = {message.pk for message in claimed}
    renewed_at = time.monotonic()
    backend = None
    accepted = None  # accepted by the server, not yet marked sent
    _synchronous_commit(on=False)
    try:
        for position, message in enumerate(claimed):
            if time.monotonic() - renewed_at > settings.OUTBOX_STUCK_AFTER_SECONDS / 3:
                remaining = [pending.pk for pending in claimed[position:] if pending.pk in owned]
                owned, stamp = _messages_claim_renew(ids=remaining, stamp=stamp)
                renewed_at = time.monotonic()
            if message.pk not in owned:
                counts["skipped"] += 1
                continue
            error = None
            data = envelope_from = None
            try:
                if backend is None:
                    backend = mailers.default
                    backend.open()
                data = message_bytes(message) if isinstance(backend, SmtpBackend) else None
                if data is not None:
                    envelope_from = envelope_address(message.from_email or settings.DEFAULT_FROM_EMAIL)
                    smtp_mail_start(backend.connection, sender=envelope_from, size=len(data))
            except Exception as exc:
                error = exc
            if accepted is not None:
                _message_mark_sent_quickly(message=accepted)
                counts["sent"] += 1
                accepted = None
            if proceed is not None and not proceed():
                # A MAIL FROM without recipient and data delivers nothing; closing the connection drops it.
                remaining = [pending.pk for pending in claimed[position:] if pending.pk in owned]
                _messages_release(ids=remaining)
                counts["skipped"] += len(remaining)
                break
            if error is None:
                try:
                    if data is None:
                        backend.send_messages([message_build(message)])
                    else:
                        smtp_mail_finish(backend.connection, sender=envelope_from, recipient=message.to, data=data)
                except Exception as exc:
                    error = exc
            if error is not None:
                if backend is not None:
                    connection_close(backend)
                    backend = None
                if _message_fail(message=message, error=error) == SESSION_REFUSED:
                    remaining = [pending.pk for pending in claimed[position + 1 :] if pending.pk in owned]
                    _messages_release(ids=remaining, until=delivery_halted().until)
                    counts["skipped"] += len(remaining) + 1
                    break
                counts["failed"] += 1
                continue
            accepted = message
        if accepted is not None:
            _message_mark_sent_quickly(message=accepted)
            counts["sent"] += 1
    finally:
        _synchronous_commit(on=True)
        if backend is not None:
            connection_close(backend)
    return counts


def _synchronous_commit(*, on: bool) -> None:
    """Marking a row sent is a one-statement commit per mail; not waiting for its WAL flush makes it cheap."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit" if on else "SET synchronous_commit TO OFF")


def _messages_claim(*, ids: list[int]) -> tuple[list[OutboxMessage], object]:
    """Claim what is still due among `ids`; the claim time is the batch's stamp of ownership."""
    now = timezone.now()
    with transaction.atomic():
        messages = list(
            locked(
                OutboxMessage.objects.filter(pk__in=ids, status__in=CLAIMABLE, next_attempt_at__lte=now).order_by("pk"),
                skip_locked=True,
            )
        )
        for message in messages:
            message.mark_sending(now=now)
        # One UPDATE for the batch (every row gets the same values); bulk_update's CASE per row costs far more.
        OutboxMessage.objects.filter(pk__in=[message.pk for message in messages]).update(
            status=Status.SENDING, sending_started_at=now, attempts=F("attempts") + 1
        )
    return messages, now


def _messages_claim_renew(*, ids: list[int], stamp) -> tuple[set[int], object]:
    """Keep the rows this batch still owns (still sending, under its stamp) and move their claim time on."""
    now = timezone.now()
    with transaction.atomic():
        owned = set(
            locked(
                OutboxMessage.objects.filter(pk__in=ids, status=Status.SENDING, sending_started_at=stamp)
            ).values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=owned).update(sending_started_at=now)
    return owned, now


def _messages_release(*, ids: list[int], until=None) -> None:
    """Claimed but not sent: back to the queue (not before `until`, when given), or to held when the group is
    held meanwhile; the claim does not count as an attempt."""
    OutboxMessage.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=queued_unless_held(),
        sending_started_at=None,
        attempts=F("attempts") - 1,
        **({"next_attempt_at": until} if until else {}),
    )


def _message_mark_sent_quickly(*, message: OutboxMessage) -> None:
    message.mark_sent(now=timezone.now())
    # One statement through the cursor: the ORM's query building would cost as much CPU as the mail's own SMTP
    # exchange here.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {OutboxMessage._meta.db_table} SET status = %s, sent_at = %s, last_error = '' "  # noqa: S608
            "WHERE id = %s AND status = %s",
            [Status.SENT, message.sent_at, message.pk, Status.SENDING],
        )


def _message_fail(*, message: OutboxMessage, error: Exception) -> str:
    """Record a failed attempt as its kind demands; returns the kind. A refused session halts delivery and hands
    the row back untouched: the relay never judged it."""
    text = error_text(error)
    failure = failure_classify(error)
    if failure == SESSION_REFUSED:
        halt = delivery_halt(reason=text)
        _messages_release(ids=[message.pk], until=halt.until)
        return failure
    now = timezone.now()
    delay = min(
        settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(message.attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS
    )
    give_up = (
        failure == Failure.PERMANENT
        or (failure == Failure.ERROR and message.attempts >= settings.OUTBOX_MAX_ATTEMPTS)
        or (
            failure == Failure.TRANSIENT
            and (now - message.created_at).total_seconds() >= settings.OUTBOX_TRANSIENT_LIFETIME_SECONDS
        )
    )
    message.mark_failed_attempt(
        error=text, failure=failure, now=now, give_up=give_up, retry_in=timedelta(seconds=delay)
    )
    if message.status == Status.RETRYING and message.group_key and group_is_held(group=message.group_key):
        message.status = Status.HELD  # its group was held while it was on the wire: it waits for the release
    message.save(update_fields=["status", "failure", "last_error", "next_attempt_at"])
    logger.warning(
        "outbox: delivery of %s to %s failed (%s, %s): %s", message.pk, message.to, failure, message.status, text
    )
    return failure


def delivery_halt(*, reason: str) -> DeliveryHalt:
    now = timezone.now()
    logger.error("outbox: the mail server refused the session, delivery halts: %s", reason)
    return DeliveryHalt.objects.create(
        reason=reason[:2000], created_at=now, until=now + timedelta(seconds=settings.OUTBOX_HALT_SECONDS)
    )


def outbox_sweep() -> dict:
    """Queue again what a dead worker left in "sending" (held again, if its group is held now), and re-publish
    rows nobody picked up; nothing while a refused session halts delivery. Rows another transaction holds are
    skipped: a worker is on them."""
    now = timezone.now()
    if delivery_halted() is not None:
        return {"requeued_stuck": 0, "published": 0}
    stuck_before = now - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    with transaction.atomic():
        stuck = list(
            locked(
                OutboxMessage.objects.filter(status=Status.SENDING, sending_started_at__lt=stuck_before),
                skip_locked=True,
            ).values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=stuck, status=Status.SENDING).update(
            status=queued_unless_held(), next_attempt_at=now, sending_started_at=None
        )
    forgotten_before = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    requeued = list(OutboxMessage.objects.filter(pk__in=stuck, status=Status.QUEUED).values_list("pk", flat=True))
    due = requeued + list(
        OutboxMessage.objects.filter(
            Q(status=Status.QUEUED, next_attempt_at__lte=forgotten_before)
            | Q(status=Status.RETRYING, next_attempt_at__lte=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    published = 0
    batch = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(due), batch):
        chunk = due[start : start + batch]
        if not delivery_publish(ids=chunk):
            break
        # Re-published now: the next sweep leaves these alone until they are overdue again.
        OutboxMessage.objects.filter(pk__in=chunk, status=Status.QUEUED).update(next_attempt_at=now)
        published += len(chunk)
    return {"requeued_stuck": len(stuck), "published": published}
