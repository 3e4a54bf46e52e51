"""Newsletter topics, subscribers, the consent ledger, campaigns and their deliveries (one copy per subscriber)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.errors import InvalidTransition  # re-exported: callers catch it from here


class Topic(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    hub = models.ForeignKey(
        "hubs.Hub", verbose_name=_("hub"), on_delete=models.PROTECT, null=True, blank=True, related_name="topics"
    )
    is_active = models.BooleanField(_("offered on the form"), default=True)
    is_default = models.BooleanField(
        _("chosen by default"), default=False, help_text=_("Subscribed when an opt-in names no topics.")
    )
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["ordering", "slug"]

    def __str__(self):
        return self.name


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("subscriber status", "Pending confirmation")
        CONFIRMED = "confirmed", pgettext_lazy("subscriber status", "Confirmed")
        UNSUBSCRIBED = "unsubscribed", pgettext_lazy("subscriber status", "Unsubscribed")
        BOUNCED = "bounced", pgettext_lazy("subscriber status", "Bounced")
        COMPLAINED = "complained", pgettext_lazy("subscriber status", "Complained")

    email = models.EmailField(_("email address"), max_length=254)
    name = models.CharField(_("name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="da")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="subscribers", blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="newsletter_subscriptions",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    # GNU Mailman's bounce score: days on which the mail server refused a copy for this address.
    bounce_score = models.PositiveSmallIntegerField(_("bounce score"), default=0)
    last_bounce_at = models.DateTimeField(_("last bounce"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="newsletters_subscriber_email_ci_unique")]
        indexes = [models.Index(fields=["status"], name="newsletters_subscriber_status")]

    def __str__(self):
        return self.email

    def confirm(self, *, now):
        if self.status == self.Status.CONFIRMED:
            raise InvalidTransition("already confirmed")
        self.status = self.Status.CONFIRMED
        self.confirmed_at = now
        self.unsubscribed_at = None
        self.bounced_at = None
        self.bounce_score = 0
        self.last_bounce_at = None

    def bounce_count(self, *, now, stale_after) -> bool:
        """Count a refused copy, as Mailman does: at most one per day, and from 0 again when the last counted one is
        older than `stale_after`. False when this one did not count."""
        if self.last_bounce_at is not None:
            if now - self.last_bounce_at > stale_after:
                self.bounce_score = 0
            elif timezone.localdate(self.last_bounce_at) == timezone.localdate(now):
                return False
        self.bounce_score += 1
        self.last_bounce_at = now
        return True

    def request_again(self):
        """A new opt-in from someone who left, bounced or never confirmed: they must confirm again."""
        if self.status == self.Status.CONFIRMED:
            raise InvalidTransition("a confirmed subscriber does not opt in again")
        self.status = self.Status.PENDING

    def unsubscribe(self, *, now):
        if self.status == self.Status.UNSUBSCRIBED:
            raise InvalidTransition("already unsubscribed")
        self.status = self.Status.UNSUBSCRIBED
        self.unsubscribed_at = now

    def mark_undeliverable(self, *, status, now):
        if status not in (self.Status.BOUNCED, self.Status.COMPLAINED):
            raise InvalidTransition(f"{status} is not an undeliverable state")
        if self.status in (self.Status.UNSUBSCRIBED, status):
            raise InvalidTransition(f"a {self.status} subscriber is not marked {status}")
        self.status = status
        self.bounced_at = now


class ConsentRecord(models.Model):
    """The ledger: append-only, one row for every opt-in, confirmation, topic change and opt-out."""

    class Action(models.TextChoices):
        OPT_IN = "opt_in", pgettext_lazy("consent action", "Opt-in requested")
        CONFIRM = "confirm", pgettext_lazy("consent action", "Confirmed")
        TOPICS = "topics", pgettext_lazy("consent action", "Topics or language changed")
        OPT_OUT = "opt_out", pgettext_lazy("consent action", "Opt-out")
        BOUNCE = "bounce", pgettext_lazy("consent action", "Marked bounced")
        COMPLAINT = "complaint", pgettext_lazy("consent action", "Spam complaint")
        ERASE = "erase", pgettext_lazy("consent action", "Erased with the account")

    class Source(models.TextChoices):
        FORM = "form", pgettext_lazy("consent source", "Subscription form")
        ACCOUNT = "account", pgettext_lazy("consent source", "Member account")
        EVENT = "event", pgettext_lazy("consent source", "Event sign-up")
        IMPORT = "import", pgettext_lazy("consent source", "Import")
        STAFF = "staff", pgettext_lazy("consent source", "Staff")
        EMAIL_LINK = "email_link", pgettext_lazy("consent source", "Link in an email")
        MAIL_PROVIDER = "mail_provider", pgettext_lazy("consent source", "Mail provider")
        DELIVERY = "delivery", pgettext_lazy("consent source", "Delivery failures")

    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE, related_name="consent_records"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    source = models.CharField(_("source"), max_length=14, choices=Source.choices)
    occurred_at = models.DateTimeField(_("occurred"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    consent_text_version = models.CharField(_("consent text version"), max_length=40, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=5, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.SET_NULL, null=True, blank=True
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    # Set on the tombstone written when the person is erased: a keyed hash of the address, so the withdrawal
    # can still be proven for that address without the ledger keeping the address itself.
    email_hash = models.CharField(_("address hash"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self):
        return f"{self.subscriber.email}: {self.get_action_display()}"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
        SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
        SENDING = "sending", pgettext_lazy("campaign status", "Sending")
        PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
        SENT = "sent", pgettext_lazy("campaign status", "Sent")

    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body (Markdown)"))
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="campaigns")
    hub = models.ForeignKey(
        "hubs.Hub", verbose_name=_("hub"), on_delete=models.PROTECT, null=True, blank=True, related_name="campaigns"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True)
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    # Why the campaign paused itself (the mail server kept deferring its copies); empty when staff paused it.
    pause_reason = models.TextField(_("pause reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="newsletters_campaign_due")]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("newsletters:archive_detail", kwargs={"pk": self.pk})

    def schedule(self, *, at):
        if self.status not in (self.Status.DRAFT, self.Status.SCHEDULED):
            raise InvalidTransition(f"a {self.status} campaign cannot be scheduled")
        self.status = self.Status.SCHEDULED
        self.scheduled_at = at

    def unschedule(self):
        if self.status != self.Status.SCHEDULED:
            raise InvalidTransition(f"a {self.status} campaign is not scheduled")
        self.status = self.Status.DRAFT
        self.scheduled_at = None

    def start(self, *, now):
        if self.status not in (self.Status.DRAFT, self.Status.SCHEDULED):
            raise InvalidTransition(f"a {self.status} campaign cannot start")
        self.status = self.Status.SENDING
        self.started_at = now

    def pause(self, *, reason: str = ""):
        if self.status != self.Status.SENDING:
            raise InvalidTransition(f"a {self.status} campaign cannot be paused")
        self.status = self.Status.PAUSED
        self.pause_reason = reason

    def resume(self):
        if self.status != self.Status.PAUSED:
            raise InvalidTransition(f"a {self.status} campaign cannot be resumed")
        self.status = self.Status.SENDING
        self.pause_reason = ""

    def finish(self, *, now):
        if self.status != self.Status.SENDING:
            raise InvalidTransition(f"a {self.status} campaign cannot finish")
        self.status = self.Status.SENT
        self.finished_at = now


class Delivery(models.Model):
    """One copy of a campaign for one subscriber; its mail is the outbox row it points at."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE, related_name="deliveries"
    )
    language = models.CharField(_("language"), max_length=5)
    message = models.OneToOneField(
        "outbox.OutboxMessage",
        verbose_name=_("mail"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="newsletter_delivery",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # This copy's refusal has been counted in its subscriber's bounce score (counted once, not on every tick).
    bounce_counted = models.BooleanField(_("bounce counted"), default=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "subscriber"], name="newsletters_one_delivery_per_subscriber")
        ]

    def __str__(self):
        return f"{self.campaign_id} → {self.subscriber_id}"
