"""The outbox's public API: what other apps call to owe mail, hold and release it, and read its state. Nothing
outside outbox/ imports outbox.models; this module (with the names it takes from delivery and selectors) is
the whole surface.

A caller enqueues inside its own transaction; delivery is published to Celery only once that transaction
commits, from a background thread after the response, and a failed publish is left to the sweeper, so no request
waits on the broker. Mail written for a group (a campaign's copies, say) can be held and released together and
counted by status; a group held is never claimed, swept or published until its sender releases it."""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.template.exceptions import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import linebreaks, urlize
from django.utils.safestring import mark_safe

from common.locks import lock_one, locked
from outbox.delivery import (
    background_publishes_wait,
    delivery_publish,
    messages_deliver_batch,
    publish_in_background,
)
from outbox.models import OutboxHold, OutboxMessage
from outbox.rendering import mail_renderer_register, message_render
from outbox.selectors import (
    dedupe_keys_taken,
    delivery_halted,
    group_deferred,
    group_is_held,
    group_status_counts,
    group_waiting,
    messages_refused,
    outbox_backlog,
    sent_bodies_due,
    sent_mail_bodies_due_count,
)

__all__ = [
    "Mail",
    "Status",
    "background_publishes_wait",
    "dedupe_keys_taken",
    "delivery_halted",
    "group_deferred",
    "group_hold",
    "group_mark_sent",
    "group_release",
    "group_status_counts",
    "group_waiting",
    "mail_enqueue",
    "mail_enqueue_later",
    "mail_enqueue_rendered",
    "mail_later_insert_sql",
    "mail_layout",
    "mail_render",
    "mail_renderer_register",
    "mail_withdraw",
    "mails_enqueue_bulk",
    "mails_publish_after_commit",
    "message_render",
    "message_resend",
    "messages_deliver_batch",
    "messages_refused",
    "outbox_backlog",
    "publish_in_background",
    "sent_mail_bodies_due_count",
    "sent_mail_bodies_empty",
]

# The statuses a caller may compare with (a group's counts are keyed by their values).
Status = OutboxMessage.Status


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


def _message(
    *,
    headers: dict | None = None,
    attachments: list[dict] | None = None,
    reply_to: str = "",
    group: str = "",
    status: str = Status.QUEUED,
    **mail,
) -> OutboxMessage:
    """An unsaved row for a rendered mail (`mail_enqueue_rendered`'s arguments), from our sender address."""
    return OutboxMessage(
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers=headers or {},
        attachments=attachments or [],
        reply_to=reply_to,
        group_key=group,
        status=status,
        **mail,
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
    group: str = "",
    render: dict | None = None,
) -> OutboxMessage | None:
    """Write a mail already rendered (or, with `render`, one the worker renders: see `mail_enqueue_later`).
    Returns the row written (callers use its pk), or None when `dedupe_key` was already used. A mail written into
    a held group is held with it."""
    held = bool(group) and group_is_held(group=group)
    message = _message(
        template=template,
        to=to,
        language=language,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        headers=headers,
        attachments=attachments,
        dedupe_key=dedupe_key,
        reply_to=reply_to,
        group=group,
        status=Status.HELD if held else Status.QUEUED,
        render=render or {},
    )
    if dedupe_key is None:
        # Nothing unique to collide with: no savepoint, whose two round trips would fall under the caller's lock
        # (a sign-up writes its mail while it holds the event's).
        message.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            if dedupe_key and dedupe_keys_taken(keys=[dedupe_key]):
                return None
            raise
    if not held:
        mails_publish_after_commit(ids=[message.pk])
    return message


def mails_publish_after_commit(*, ids: list[int]) -> None:
    """Hand queued mail to the workers once the current transaction commits, from a background thread (a failed
    publish is left to the sweeper). For mail written by `mail_later_insert_sql`; the other writers call it
    themselves."""
    ids = list(ids)
    transaction.on_commit(lambda: publish_in_background(lambda: delivery_publish(ids=ids)))


def mail_enqueue_later(
    *, renderer: str, arguments: dict, template: str, to: str, language: str, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Write a mail that the worker renders before sending it: `renderer` (registered with
    `mail_renderer_register`) is called with `arguments` (stored as JSON) then. For a caller that must not spend its
    time on rendering. Returns the row, or None when `dedupe_key` was already used."""
    return mail_enqueue_rendered(
        template=template,
        to=to,
        language=language,
        subject="",
        body_text="",
        dedupe_key=dedupe_key,
        render={"renderer": renderer, "arguments": arguments},
    )


# The columns `mail_later_insert_sql` writes: every stored one but the id.
_INSERT_FIELDS = [field for field in OutboxMessage._meta.concrete_fields if not field.primary_key]
_ARGUMENT_NAME = re.compile(r"^[a-z_]+$")


@functools.cache
def _insert_columns() -> tuple[tuple, ...]:
    """`_INSERT_FIELDS` with their column types, looked up once per process (a sign-up asked for them each time)."""
    return tuple((model_field, model_field.db_type(connection)) for model_field in _INSERT_FIELDS)


_GIVEN = ("to", "language", "from_email")


def _per_mail(model_field) -> bool:
    """A column whose value differs from mail to mail: the address and language given, the sender (a setting), and
    those whose default is computed for each row (the Message-ID, the times). The others are the same for every
    mail of a caller."""
    default = model_field.default
    computed = model_field.has_default() and callable(default) and default not in (dict, list)
    return model_field.name in _GIVEN or (computed and model_field.column not in ("template", "render"))


def mail_later_insert_sql(
    *, renderer: str, arguments: dict[str, str], templates: dict[str, str], choose: str, to: str, language: str
) -> tuple[str, list]:
    """An INSERT ... SELECT (PostgreSQL) writing a mail that the worker renders (as `mail_enqueue_later` does),
    for a caller that decides inside a single statement of its own: a sign-up counts the seats, writes the
    registration and its mail in one round trip under the event's lock, as a data-modifying WITH query.

    `arguments` maps each of the renderer's argument names to an SQL expression of the statement that gives its
    value (a registration's id, the seat decision); `templates` maps a value of the SQL expression `choose` to the
    mail's template name, and no mail is written when `choose` gives none of them. The expressions take no
    parameters; the ones returned are in the order of the statement's placeholders. The statement returns the id
    written; pass it to `mails_publish_after_commit`. Its text is built once per process for each caller's shape,
    with the values every such mail shares written into it: only the addresses, the language, the Message-ID and
    the times are parameters."""
    sql = _mail_later_sql(
        renderer=renderer, arguments=tuple(arguments.items()), templates=tuple(templates.items()), choose=choose
    )
    given = {"to": to, "language": language, "from_email": settings.DEFAULT_FROM_EMAIL}
    return sql, [
        field.get_db_prep_save(given[field.name] if field.name in given else field.get_default(), connection)
        for field in _per_mail_fields()
    ]


@functools.cache
def _per_mail_fields() -> tuple:
    """The columns of `mail_later_insert_sql`'s statement that are parameters, in its order."""
    return tuple(model_field for model_field, _cast in _insert_columns() if _per_mail(model_field))


@functools.lru_cache(maxsize=16)
def _mail_later_sql(
    *, renderer: str, arguments: tuple[tuple[str, str], ...], templates: tuple[tuple[str, str], ...], choose: str
) -> str:
    """The text of `mail_later_insert_sql`'s statement for a renderer, its `arguments` (name, SQL expression) and the
    `templates` by value of the expression `choose`, quoted into it with the values every such mail shares. Its
    placeholders are the columns `_per_mail` names, in the table's order."""
    if not all(_ARGUMENT_NAME.match(name) for name, _expression in arguments):
        raise ValueError("a renderer's argument names are lower-case words")
    quote = connection.ops.quote_name
    shared = _message(template="", to="", language="", subject="", body_text="")  # the values every such mail has
    with connection.cursor() as cursor:

        def literal(value) -> str:
            quoted = cursor.mogrify("%s", [value]).decode()
            if "%" in quoted:  # the text goes through `statement_quoted`, where % marks a placeholder
                raise ValueError(f"a value written into the statement has a %: {quoted}")
            return quoted

        selected = []
        for model_field, cast in _insert_columns():
            if model_field.column == "template":
                cases = " ".join(f"WHEN {literal(value)} THEN {literal(name)}" for value, name in templates)
                selected.append(f"CAST(CASE ({choose}) {cases} END AS {cast})")
            elif model_field.column == "render":
                pairs = ", ".join(f"'{name}', {expression}" for name, expression in arguments)
                selected.append(
                    f"jsonb_build_object('renderer', CAST({literal(renderer)} AS text), "
                    f"'arguments', jsonb_build_object({pairs}))"
                )
            elif _per_mail(model_field):
                selected.append(f"CAST(%s AS {cast})")
            else:
                value = model_field.get_db_prep_save(model_field.pre_save(shared, True), connection)
                selected.append(f"CAST({literal(value)} AS {cast})")
        chosen = ", ".join(literal(value) for value, _name in templates)
    columns = ", ".join(quote(model_field.column) for model_field in _INSERT_FIELDS)
    return (
        f"INSERT INTO {quote(OutboxMessage._meta.db_table)} ({columns}) "
        f"SELECT {', '.join(selected)} WHERE ({choose}) IN ({chosen}) "
        f"RETURNING {quote(OutboxMessage._meta.pk.column)}"
    )


@dataclass(frozen=True, slots=True)
class Mail:
    """One rendered mail for `mails_enqueue_bulk`."""

    template: str
    to: str
    language: str
    subject: str
    body_text: str
    body_html: str = ""
    headers: dict = field(default_factory=dict)
    dedupe_key: str | None = None


def mails_enqueue_bulk(*, mails: Iterable[Mail], group: str = "", publish: bool = True) -> list[int]:
    """Write many rendered mails in one statement per thousand and return their ids in the order given. A
    dedupe key already taken raises IntegrityError (bulk writes are for mail owed once, such as a campaign that
    starts once); call inside the transaction that owes the mail. With `publish`, the outbox's own task delivers
    them once the transaction commits; a sender with its own batch task (newsletters) passes False and publishes
    the ids itself. Mail written into a held group is held with it."""
    now = timezone.now()
    status = Status.HELD if group and group_is_held(group=group) else Status.QUEUED
    from_email = settings.DEFAULT_FROM_EMAIL
    rows = [
        OutboxMessage(
            template=mail.template,
            to=mail.to,
            from_email=from_email,
            language=mail.language,
            subject=mail.subject[:255],
            body_text=mail.body_text,
            body_html=mail.body_html,
            headers=mail.headers,
            dedupe_key=mail.dedupe_key,
            group_key=group,
            status=status,
            created_at=now,
            next_attempt_at=now,
        )
        for mail in mails
    ]
    OutboxMessage.objects.bulk_create(rows, batch_size=1000)
    ids = [row.pk for row in rows]
    if publish and status == Status.QUEUED and ids:
        transaction.on_commit(lambda: publish_in_background(lambda: _publish_in_batches(ids=ids)))
    return ids


def _publish_in_batches(*, ids: list[int]) -> None:
    size = settings.OUTBOX_BATCH_SIZE
    for start in range(0, len(ids), size):
        if not delivery_publish(ids=ids[start : start + size]):
            return  # the sweeper publishes the rest


def group_hold(*, group: str) -> int:
    """Hold a group: its waiting mail (queued or retrying) is held, and mail of the group that comes back from a
    worker, or is written into it, is held too, until `group_release`. A row a worker is sending right now
    finishes; a batch that is asked to stop hands its other rows back as held. Returns how many rows were held."""
    with transaction.atomic():
        OutboxHold.objects.get_or_create(group_key=group)
        return OutboxMessage.objects.filter(group_key=group, status__in=[Status.QUEUED, Status.RETRYING]).update(
            status=Status.HELD
        )


def group_release(*, group: str, publish: bool = True) -> list[int]:
    """Release a held group: its held mail is queued again afresh (an earlier deferral no longer counts) and due
    now. Returns the ids released, in order; with `publish` they are published once the transaction commits, else
    the caller publishes them. A row sent before the hold is never sent again."""
    with transaction.atomic():
        OutboxHold.objects.filter(group_key=group).delete()
        held = OutboxMessage.objects.filter(group_key=group, status__in=[Status.HELD, Status.RETRYING])
        ids = list(locked(held.order_by("pk")).values_list("pk", flat=True))
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=Status.QUEUED, failure="", next_attempt_at=timezone.now()
        )
        if publish and ids:
            transaction.on_commit(lambda: publish_in_background(lambda: _publish_in_batches(ids=ids)))
    return ids


def group_mark_sent(*, group: str, sent_at) -> int:
    """Record a group's waiting mail as delivered at `sent_at` without sending it: for demo data, whose mail
    never leaves the machine. Returns how many rows."""
    return OutboxMessage.objects.filter(
        group_key=group, status__in=[Status.QUEUED, Status.RETRYING, Status.HELD]
    ).update(status=Status.SENT, sent_at=sent_at, attempts=1)


def message_resend(*, message: OutboxMessage) -> OutboxMessage:
    """Staff send a failed (or still waiting) mail again, with a fresh count of attempts."""
    with transaction.atomic():
        message = lock_one(message)
        message.requeue(now=timezone.now())
        message.attempts = 0
        message.save(update_fields=["status", "next_attempt_at", "sending_started_at", "attempts"])
        transaction.on_commit(lambda: publish_in_background(lambda: delivery_publish(ids=[message.pk])))
    return message


def mail_withdraw(*, dedupe_key_prefixes: list[str]) -> int:
    """Take back (delete) mail not yet on the wire whose dedupe key starts with one of the prefixes (a reminder
    for a time the event no longer has), so the key is free again; a row a worker is sending right now is left
    to finish. Returns how many went."""
    if not dedupe_key_prefixes:
        return 0
    matches = Q()
    for prefix in dedupe_key_prefixes:
        matches |= Q(dedupe_key__startswith=prefix)
    with transaction.atomic():
        waiting = locked(
            OutboxMessage.objects.filter(matches, status__in=[Status.QUEUED, Status.RETRYING, Status.HELD]),
            skip_locked=True,
        ).values_list("pk", flat=True)
        deleted, _ = OutboxMessage.objects.filter(pk__in=list(waiting)).delete()
    return deleted


def sent_mail_bodies_empty(*, now) -> int:
    """Sent mail older than OUTBOX_RETENTION_DAYS loses its text, HTML and attachments. The row stays, with its
    status, so its dedupe key still holds and every count of mail sent stays right. Returns how many rows were
    emptied."""
    return sent_bodies_due(now=now).update(body_text="", body_html="", attachments=[])
