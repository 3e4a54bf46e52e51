"""Writing mail into the outbox and delivering it.

A caller enqueues inside its own transaction; delivery is published to Celery only once that transaction
commits, from a background thread after the response, and a failed publish is left to the sweeper, so no request
waits on the broker."""

import base64
import functools
import logging
import os
import smtplib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.header import Header
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Q
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from outbox.models import DeliveryHalt, OutboxMessage

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Failure = OutboxMessage.Failure
# Not a row's failure: the relay refused the session, so delivery halts for everyone.
SESSION_REFUSED = "session"
# Authentication required, too weak, failed, or to be encrypted: no recipient will do better.
SESSION_REPLY_CODES = {530, 534, 535, 538}


def mail_render(*, template: str, language: str, context: dict | None = None) -> tuple[str, str, str]:
    """Render `<template>_subject.txt`, `<template>.txt` and (if present) `<template>.html` in `language`, inside
    the branded layout."""
    context = {"SITE_URL": settings.SITE_URL, "language": language, **(context or {})}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body_text = render_to_string(f"{template}.txt", context).strip() + "\n"
        try:
            body_html = render_to_string(f"{template}.html", context)
        except TemplateDoesNotExist:
            body_html = ""
    body_text, body_html = mail_layout(subject=subject, body_text=body_text, body_html=body_html, language=language)
    return subject, body_text, body_html


def mail_layout(*, subject: str, body_text: str, body_html: str, language: str) -> tuple[str, str]:
    """Wrap a mail's own content in the one branded layout (templates/email/layout.txt and .html), so every mail
    the system sends (ours, allauth's, newsletter campaigns) looks and signs off the same. A mail written only as
    text gets its HTML part from that text."""
    if not body_html:
        body_html = linebreaks(urlize(body_text.strip(), autoescape=True), autoescape=False)
    context = {
        "SITE_URL": settings.SITE_URL,
        "site_host": settings.SITE_URL.split("://", 1)[-1],
        "language": language,
        "subject": subject,
        "body_text": body_text.strip(),
        "body_html": mark_safe(body_html),  # noqa: S308 (rendered by our templates or sanitised by nh3)
    }
    with translation.override(language):
        text = render_to_string("email/layout.txt", context).strip() + "\n"
        html = render_to_string("email/layout.html", context)
    return text, html


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
    transaction.on_commit(lambda: publish_in_background(lambda: delivery_publish(ids=[message.pk])))
    return message


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
        headers={"Message-ID": f"<{message.message_id}>", "X-DLSC-Message": str(message.pk), **message.headers},
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
                if connection is None:
                    connection = mailers.default
                    connection.open()
                connection.send_messages([message_build(message)])
            except Exception as exc:
                if connection is not None:
                    _connection_close(connection)
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
            _connection_close(connection)
    return counts


def _connection_close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a dead connection has nothing left to close
        logger.debug("outbox: closing a broken SMTP connection failed", exc_info=True)


def failure_classify(error: Exception) -> str:
    """What a failed send means. A deferral (4xx), a relay that cannot be reached or drops the line: transient. A
    5xx for the recipient: permanent for that address. A 5xx for the session (authentication, a sender or relaying
    the relay refuses): SESSION_REFUSED. Anything that is not an SMTP answer: an error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _reply_classify(code=code, reply=reply, for_recipient=True)
    if isinstance(error, smtplib.SMTPDataError):
        return _reply_classify(code=error.smtp_code, reply=error.smtp_error, for_recipient=True)
    if isinstance(error, smtplib.SMTPResponseException):  # refused sender, greeting, HELO, AUTH, STARTTLS
        return _reply_classify(code=error.smtp_code, reply=error.smtp_error, for_recipient=False)
    if isinstance(error, (smtplib.SMTPException, OSError)):  # disconnected, refused connection, timeout, TLS
        return Failure.TRANSIENT
    return Failure.ERROR


def _reply_classify(*, code: int, reply, for_recipient: bool) -> str:
    if not 500 <= code < 600:
        return Failure.TRANSIENT
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if not for_recipient or code in SESSION_REPLY_CODES or "relay" in text.lower():
        return SESSION_REFUSED
    return Failure.PERMANENT


def _message_fail(*, message: OutboxMessage, error: Exception) -> str:
    """Record a failed attempt as its kind demands; returns the kind. A refused session halts delivery and hands
    the row back untouched: the relay never judged it."""
    text = _error_text(error)
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
    message.save(update_fields=["status", "failure", "last_error", "next_attempt_at"])
    logger.warning(
        "outbox: delivery of %s to %s failed (%s, %s): %s", message.pk, message.to, failure, message.status, text
    )
    return failure


def _error_text(error: Exception) -> str:
    """The server's own reply where there is one ("SMTPRecipientsRefused: 550 5.1.1 No such user"), for staff."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, reply = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, reply = error.smtp_code, error.smtp_error
    else:
        return f"{type(error).__name__}: {error}"
    reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{type(error).__name__}: {code} {reply}"


def delivery_halt(*, reason: str) -> DeliveryHalt:
    now = timezone.now()
    logger.error("outbox: the mail server refused the session, delivery halts: %s", reason)
    return DeliveryHalt.objects.create(
        reason=reason[:2000], created_at=now, until=now + timedelta(seconds=settings.OUTBOX_HALT_SECONDS)
    )


def delivery_halted() -> DeliveryHalt | None:
    """The halt in force, if any: after it ends the next attempt asks the relay again."""
    return DeliveryHalt.objects.filter(until__gt=timezone.now()).order_by("-until").first()


def outbox_sweep() -> dict:
    """Queue again what a dead worker left in "sending", and re-publish rows nobody picked up; nothing while a
    refused session halts delivery."""
    now = timezone.now()
    if delivery_halted() is not None:
        return {"requeued_stuck": 0, "published": 0}
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
        transaction.on_commit(lambda: publish_in_background(lambda: delivery_publish(ids=[message.pk])))
    return message


def mail_withdraw(*, dedupe_key_prefixes: list[str]) -> int:
    """Take back mail not yet on the wire whose dedupe key starts with one of the prefixes (a reminder for a time
    the event no longer has); a row a worker is sending right now is left to finish. Returns how many went."""
    if not dedupe_key_prefixes:
        return 0
    matches = Q()
    for prefix in dedupe_key_prefixes:
        matches |= Q(dedupe_key__startswith=prefix)
    with transaction.atomic():
        waiting = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(matches, status__in=[Status.QUEUED, Status.RETRYING])
            .values_list("pk", flat=True)
        )
        deleted, _ = OutboxMessage.objects.filter(pk__in=list(waiting)).delete()
    return deleted


def _sent_bodies_due(*, now):
    cutoff = now - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    kept = ~Q(body_text="") | ~Q(body_html="") | ~Q(attachments=[])
    return OutboxMessage.objects.filter(kept, status=Status.SENT, sent_at__lt=cutoff)


def sent_mail_bodies_due_count(*, now) -> int:
    return _sent_bodies_due(now=now).count()


def sent_mail_bodies_empty(*, now) -> int:
    """Sent mail older than OUTBOX_RETENTION_DAYS loses its text, HTML and attachments. The row stays, so its
    dedupe key still holds and every count of mail sent stays right. Returns how many rows were emptied."""
    return _sent_bodies_due(now=now).update(body_text="", body_html="", attachments=[])


def outbox_backlog() -> dict:
    """Figures for /healthz and the admin: what is waiting and how old the oldest waiting row is."""
    rows = OutboxMessage.objects.exclude(status=Status.SENT).values("status").annotate(n=Count("pk"))
    counts = dict.fromkeys((Status.QUEUED, Status.RETRYING, Status.SENDING, Status.FAILED), 0)
    counts.update({row["status"]: row["n"] for row in rows})
    oldest = OutboxMessage.objects.filter(status__in=[Status.QUEUED, Status.RETRYING]).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    halt = delivery_halted()
    return {
        **{str(key): value for key, value in counts.items()},
        "oldest_waiting_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else 0,
        "halted": {"reason": halt.reason, "since": halt.created_at.isoformat(), "until": halt.until.isoformat()}
        if halt
        else None,
    }


def message_bytes(message: OutboxMessage) -> bytes | None:
    """The message as SMTP-ready bytes, written directly: a text part and, when there is one, an HTML part as
    multipart/alternative, each UTF-8 in base64. Django's message() (the EmailMessage API) spends about 5 ms on a
    newsletter and the compat32 generator still 0.5 ms, most of a bulk send's CPU; this takes a few hundredths.
    None for what this fast path does not cover (attachments, non-ASCII addresses, a header value with a line
    break); the caller then uses message_build(), which refuses such headers."""
    if message.attachments or not message.to.isascii():
        return None
    headers = {
        "Subject": message.subject,
        "From": message.from_email or settings.DEFAULT_FROM_EMAIL,
        "To": message.to,
        "Date": formatdate(usegmt=True),
        "Message-ID": f"<{message.message_id}>",
        **({"Reply-To": message.reply_to} if message.reply_to else {}),
        "X-DLSC-Message": str(message.pk),
        **message.headers,
        "MIME-Version": "1.0",
    }
    if any("\n" in value or "\r" in value for value in headers.values()):
        return None
    # Each value is either ASCII well under the 998-character line limit or RFC 2047-encoded and folded already.
    head = "".join(f"{name}: {_header_encoded(value)}\r\n" for name, value in headers.items()).encode("ascii")
    text = _mime_part(subtype="plain", content=message.body_text)
    if not message.body_html:
        return head + text
    boundary = f"=_dlsc_{uuid.uuid4().hex}".encode("ascii")
    return b"".join(
        [
            head,
            b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n',
            b"--" + boundary + b"\r\n",
            text,
            b"\r\n--" + boundary + b"\r\n",
            _mime_part(subtype="html", content=message.body_html),
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )


def _mime_part(*, subtype: str, content: str) -> bytes:
    encoded = base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode() + encoded
    )


@functools.lru_cache(maxsize=64)
def _envelope_address(from_email: str) -> str:
    return parseaddr(from_email)[1]


@functools.lru_cache(maxsize=1024)
def _header_encoded(value: str) -> str:
    # A campaign's copies share their subject and list headers: encode each distinct value once.
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def messages_deliver_batch(*, ids: list[int], proceed: Callable[[], bool] | None = None) -> dict:
    """Like messages_deliver, for bulk mail: the batch is claimed with one locking statement, each message is
    serialised on the fast path, and a copy the server accepted is marked sent before the next copy's data goes
    out, in a transaction that does not wait for the WAL flush (a worker killed at any point still leaves only
    the row on the wire to be sent twice; only a crash of PostgreSQL itself could forget the last few "sent"
    marks, and those rows are sent again, never lost). `proceed()` is asked before each copy's recipient is
    named; when it says no (a campaign was paused), the rows not yet sent go back to "queued" with their
    next_attempt_at untouched, and nothing more is sent. A long batch renews its claim well before the sweeper
    would take its rows for stuck, and drops any row that is no longer its own.

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
                    envelope_from = _envelope_address(message.from_email or settings.DEFAULT_FROM_EMAIL)
                    _smtp_mail_start(backend.connection, sender=envelope_from, size=len(data))
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
                        _smtp_mail_finish(backend.connection, sender=envelope_from, recipient=message.to, data=data)
                except Exception as exc:
                    error = exc
            if error is not None:
                if backend is not None:
                    _connection_close(backend)
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
            _connection_close(backend)
    return counts


def _smtp_mail_start(connection: smtplib.SMTP, *, sender: str, size: int) -> None:
    """Write MAIL FROM as smtplib's sendmail() would, without waiting for the reply."""
    connection.ehlo_or_helo_if_needed()
    options = f" size={size}" if connection.does_esmtp and connection.has_extn("size") else ""
    connection.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{options}")


def _smtp_mail_finish(connection: smtplib.SMTP, *, sender: str, recipient: str, data: bytes) -> None:
    """Read the MAIL FROM reply, then name the recipient and send the data. A refusal raises what sendmail()
    raises; the caller then closes the connection, which also ends the half-done transaction."""
    code, reply = connection.getreply()
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = connection.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = connection.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


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
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status__in=[Status.QUEUED, Status.RETRYING], next_attempt_at__lte=now)
            .order_by("pk")
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
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=ids, status=Status.SENDING, sending_started_at=stamp)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=owned).update(sending_started_at=now)
    return owned, now


def _messages_release(*, ids: list[int], until=None) -> None:
    """Claimed but not sent: back to the queue (not before `until`, when given), and the claim does not count as
    an attempt."""
    OutboxMessage.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=Status.QUEUED,
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
