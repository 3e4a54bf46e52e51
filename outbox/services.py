"""Writing mail into the outbox and delivering it.

A caller enqueues inside its own transaction; delivery is published to Celery only once that transaction
commits, and a failed publish is left to the sweeper, so no request waits on the broker."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status


def mail_render(*, template: str, language: str, context: dict | None = None) -> tuple[str, str, str]:
    """Render `<template>_subject.txt`, `<template>.txt` and (if present) `<template>.html` in `language`."""
    context = {"SITE_URL": settings.SITE_URL, "language": language, **(context or {})}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body_text = render_to_string(f"{template}.txt", context).strip() + "\n"
        try:
            body_html = render_to_string(f"{template}.html", context)
        except TemplateDoesNotExist:
            body_html = ""
    return subject, body_text, body_html


def mail_enqueue(
    *,
    template: str,
    to: str,
    language: str,
    context: dict | None = None,
    headers: dict | None = None,
    attachments: list[dict] | None = None,
    dedupe_key: str | None = None,
    reply_to: str = "",
) -> OutboxMessage | None:
    """Render a templated mail in the recipient's language and write it to the outbox.

    Returns None when `dedupe_key` was already used: the mail is owed once and has been written before."""
    subject, body_text, body_html = mail_render(template=template, language=language, context=context)
    return mail_enqueue_rendered(
        template=template,
        to=to,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        headers=headers,
        attachments=attachments,
        dedupe_key=dedupe_key,
        reply_to=reply_to,
    )


def mail_enqueue_rendered(
    *,
    template: str,
    to: str,
    language: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    headers: dict | None = None,
    attachments: list[dict] | None = None,
    dedupe_key: str | None = None,
    reply_to: str = "",
) -> OutboxMessage | None:
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                template=template,
                to=to,
                from_email=settings.DEFAULT_FROM_EMAIL,
                reply_to=reply_to,
                language=language,
                subject=subject[:255],
                body_text=body_text,
                body_html=body_html,
                headers=headers or {},
                attachments=attachments or [],
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        if dedupe_key and OutboxMessage.objects.filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    transaction.on_commit(lambda: delivery_publish(ids=[message.pk]))
    return message


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
    """Move a due row to "sending" for this worker; None when it is not due or another worker holds it."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status__in=[Status.QUEUED, Status.RETRYING], next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        message.mark_sending(now=now)
        message.save(update_fields=["status", "sending_started_at", "attempts"])
    return message


def message_build(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"X-DLSC-Message": str(message.pk), **message.headers},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment["filename"], attachment["content"], attachment.get("mimetype"))
    return email


def messages_deliver(*, ids: list[int]) -> dict:
    """Claim and send each row over one SMTP connection; every row is marked in its own transaction, so a
    worker killed mid-batch leaves at most the row that was on the wire to be sent twice."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    connection = None
    try:
        for pk in ids:
            message = message_claim(pk=pk)
            if message is None:
                counts["skipped"] += 1
                continue
            try:
                if connection is None:
                    connection = mailers.default
                    connection.open()
                connection.send_messages([message_build(message)])
            except Exception as exc:
                _message_fail(message=message, error=f"{type(exc).__name__}: {exc}")
                counts["failed"] += 1
                if connection is not None:
                    _connection_close(connection)
                    connection = None
                continue
            message.mark_sent(now=timezone.now())
            message.save(update_fields=["status", "sent_at", "last_error"])
            counts["sent"] += 1
    finally:
        if connection is not None:
            _connection_close(connection)
    return counts


def _connection_close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a dead connection has nothing left to close
        logger.debug("outbox: closing a broken SMTP connection failed", exc_info=True)


def _message_fail(*, message: OutboxMessage, error: str) -> None:
    delay = timedelta(seconds=settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(message.attempts - 1, 0))
    message.mark_failed_attempt(
        error=error, now=timezone.now(), max_attempts=settings.OUTBOX_MAX_ATTEMPTS, retry_in=delay
    )
    message.save(update_fields=["status", "last_error", "next_attempt_at"])
    logger.warning("outbox: delivery of %s to %s failed (%s): %s", message.pk, message.to, message.status, error)


def outbox_sweep() -> dict:
    """Queue again what a dead worker left in "sending", and re-publish rows nobody picked up."""
    now = timezone.now()
    stuck_before = now - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    stuck = list(
        OutboxMessage.objects.filter(status=Status.SENDING, sending_started_at__lt=stuck_before).values_list(
            "pk", flat=True
        )
    )
    OutboxMessage.objects.filter(pk__in=stuck, status=Status.SENDING).update(
        status=Status.QUEUED, next_attempt_at=now, sending_started_at=None
    )
    forgotten_before = now - timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER_SECONDS)
    due = stuck + list(
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


def message_resend(*, message: OutboxMessage) -> OutboxMessage:
    """Staff send a failed (or still waiting) mail again, with a fresh count of attempts."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        message.requeue(now=timezone.now())
        message.attempts = 0
        message.save(update_fields=["status", "next_attempt_at", "sending_started_at", "attempts"])
        transaction.on_commit(lambda: delivery_publish(ids=[message.pk]))
    return message


def outbox_backlog() -> dict:
    """Figures for /healthz and the admin: what is waiting and how old the oldest waiting row is."""
    rows = OutboxMessage.objects.exclude(status=Status.SENT).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys((Status.QUEUED, Status.RETRYING, Status.SENDING, Status.FAILED), 0)
    counts.update({row["status"]: row["n"] for row in rows})
    oldest = OutboxMessage.objects.filter(status__in=[Status.QUEUED, Status.RETRYING]).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return {
        **{str(key): value for key, value in counts.items()},
        "oldest_waiting_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else 0,
    }
