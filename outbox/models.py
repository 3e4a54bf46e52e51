"""Every email the system owes, as a row: written in the transaction that owes it, delivered by Celery."""

import functools
import uuid
from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.errors import InvalidTransition  # re-exported: callers catch it from here


def message_id_new() -> str:
    """A Message-ID (without its angle brackets) in the sender's domain, fixed when the row is written."""
    return f"{uuid.uuid4().hex}@{_sender_domain(settings.DEFAULT_FROM_EMAIL)}"


@functools.lru_cache(maxsize=4)
def _sender_domain(from_email: str) -> str:
    """The domain of a sender address (parsed once per address: every mail written asks for it)."""
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("mail status", "Queued")
        SENDING = "sending", pgettext_lazy("mail status", "Sending")
        SENT = "sent", pgettext_lazy("mail status", "Sent")
        RETRYING = "retrying", pgettext_lazy("mail status", "Retrying")
        FAILED = "failed", pgettext_lazy("mail status", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("mail status", "Cancelled")
        # Kept back by its sender (a paused campaign): neither a claim nor the sweeper picks it up until released.
        HELD = "held", pgettext_lazy("mail status", "Held")

    template = models.CharField(_("template"), max_length=200)
    to = models.EmailField(_("recipient"), max_length=254)
    from_email = models.CharField(_("sender"), max_length=254, blank=True)
    reply_to = models.EmailField(_("reply to"), max_length=254, blank=True)
    language = models.CharField(_("language"), max_length=5)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    # One Message-ID for every attempt: a copy sent again after a crash can be recognised and dropped.
    message_id = models.CharField(_("Message-ID"), max_length=255, default=message_id_new, editable=False)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    # Each attachment: {"filename": ..., "content": <text>, "mimetype": ...}; calendars are text.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    # A renderer's name and arguments while the mail waits to be rendered by the worker (outbox.rendering); empty
    # once the row holds its text.
    render = models.JSONField(_("rendered from"), default=dict, blank=True)
    # Makes an enqueue idempotent: a second row with the same key is never written.
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True, unique=True)
    # The sender's name for a set of mails held, released and counted together (a campaign's copies).
    group_key = models.CharField(_("group"), max_length=100, blank=True)

    class Failure(models.TextChoices):
        # The relay deferred (4xx), or could not be reached: retried with backoff, never a bounce.
        TRANSIENT = "transient", pgettext_lazy("mail failure", "Temporary")
        # The relay refused this recipient for good (5xx): counts towards the address's bounce score.
        PERMANENT = "permanent", pgettext_lazy("mail failure", "Recipient refused")
        # Not an SMTP answer (a message that cannot be built, say): retried up to OUTBOX_MAX_ATTEMPTS times.
        ERROR = "error", pgettext_lazy("mail failure", "Error")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    failure = models.CharField(_("last failure"), max_length=10, choices=Failure.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due_idx"),
            # Only mails in a group: a group is looked up by its name, and most mail (a sign-up's) has none, so it
            # writes no entry here.
            models.Index(fields=["group_key"], condition=~models.Q(group_key=""), name="outbox_group_idx"),
        ]

    def __str__(self):
        return f"{self.to}: {self.subject or self.template}"  # a mail the worker renders has no subject before it

    def mark_sending(self, *, now):
        if self.status not in (self.Status.QUEUED, self.Status.RETRYING):
            raise InvalidTransition(f"cannot send a {self.status} message")
        self.status = self.Status.SENDING
        self.sending_started_at = now
        self.attempts += 1

    def mark_sent(self, *, now):
        if self.status != self.Status.SENDING:
            raise InvalidTransition(f"cannot mark a {self.status} message as sent")
        self.status = self.Status.SENT
        self.sent_at = now
        self.last_error = ""

    def mark_failed_attempt(self, *, error: str, failure: str, now, give_up: bool, retry_in):
        if self.status != self.Status.SENDING:
            raise InvalidTransition(f"cannot fail a {self.status} message")
        self.last_error = error[:2000]
        self.failure = failure
        if give_up:
            self.status = self.Status.FAILED
        else:
            self.status = self.Status.RETRYING
            self.next_attempt_at = now + retry_in

    def requeue(self, *, now):
        # A row in "sending" may be on the wire right now; the sweeper frees it once it is stuck.
        if self.status in (self.Status.SENT, self.Status.SENDING):
            raise InvalidTransition(f"a {self.status} message is not queued again")
        self.status = self.Status.QUEUED
        self.next_attempt_at = now
        self.sending_started_at = None


class OutboxHold(models.Model):
    """A group its sender holds: its waiting mail is held, and a row that would go back to the queue (handed back
    by a batch, freed by the sweeper, written into the group) is held instead, until the group is released."""

    group_key = models.CharField(_("group"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("held since"), default=timezone.now)

    class Meta:
        verbose_name = _("held group")
        verbose_name_plural = _("held groups")

    def __str__(self):
        return self.group_key


class DeliveryHalt(models.Model):
    """The relay refused the session itself (authentication, relaying denied): nothing is sent until `until`, and
    staff see the reason in the admin and in /healthz. A mail to staff would go through the same refusing relay."""

    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("halted at"), default=timezone.now)
    until = models.DateTimeField(_("halted until"))

    class Meta:
        verbose_name = _("delivery halt")
        verbose_name_plural = _("delivery halts")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.reason
