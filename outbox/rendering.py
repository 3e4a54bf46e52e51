"""Mail the worker renders: a caller that must not spend its time on rendering (a sign-up, under a rush, renders
nothing) writes the row with a renderer's name and its arguments, and the row is rendered once, by whoever needs its
text first: the worker, just before sending it, or staff opening it in the admin.

An app registers its renderers when it is ready. A renderer is called in the row's language with the arguments
stored with the row, and returns the mail (`subject`, `body_text`, `body_html`, `attachments`), or None when the
mail is no longer owed (the person it was for has been erased meanwhile): the row is then cancelled, not sent."""

from collections.abc import Callable

from django.utils import translation

from outbox.models import OutboxMessage

_renderers: dict[str, Callable[..., dict | None]] = {}


def mail_renderer_register(*, name: str, render: Callable[..., dict | None]) -> None:
    _renderers[name] = render


def message_render(message: OutboxMessage) -> bool:
    """Render a row written to be rendered later and store its text; True when the row has its text (now or from
    before), False when the renderer said the mail is no longer owed and the row was cancelled. A renderer's error
    propagates: the caller treats it as a failed attempt."""
    if not message.render:
        return True
    spec = message.render
    with translation.override(message.language):
        mail = _renderers[spec["renderer"]](**spec["arguments"])
    message.render = {}
    if mail is None:
        message.status = OutboxMessage.Status.CANCELLED
        message.last_error = "The mail was no longer owed when it was to be rendered."
        fields = ["render", "status", "last_error"]
    else:
        message.subject = mail["subject"][:255]
        message.body_text = mail["body_text"]
        message.body_html = mail["body_html"]
        message.attachments = mail.get("attachments") or []
        fields = ["render", "subject", "body_text", "body_html", "attachments"]
    # Only a row still waiting for its text is written: staff and a worker may render it at the same moment.
    written = (
        OutboxMessage.objects.filter(pk=message.pk)
        .exclude(render={})
        .update(**{name: getattr(message, name) for name in fields})
    )
    if not written:
        message.refresh_from_db()
    return message.status != OutboxMessage.Status.CANCELLED
