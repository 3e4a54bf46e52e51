"""Events, the people registered for them (confirmed, waitlisted, cancelled) and staff-defined sign-up questions."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.errors import InvalidTransition  # re-exported: callers catch it from here

DEFAULT_REMINDER_OFFSETS_HOURS = (168, 24)


def default_reminder_offsets():
    return list(DEFAULT_REMINDER_OFFSETS_HOURS)


EVENT_IMAGE_MAX_BYTES = 2 * 1024 * 1024
EVENT_IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")


def validate_event_image(file) -> None:
    """A photo or banner for the event page and cards: JPEG, PNG or WebP (Pillow checks it is one) up to 2 MB."""
    if file.name.rsplit(".", 1)[-1].lower() not in EVENT_IMAGE_EXTENSIONS:
        raise ValidationError(_("The image must be a JPEG, PNG or WebP file."), code="event_image_type")
    if file.size > EVENT_IMAGE_MAX_BYTES:
        raise ValidationError(_("The image may be at most 2 MB."), code="event_image_too_large")


def validate_reminder_offsets(value):
    if not isinstance(value, list) or not all(isinstance(hours, int) and 0 < hours <= 24 * 90 for hours in value):
        raise ValidationError(_("Enter a list of whole hours between 1 and 2160, for example [168, 24]."))
    if len(set(value)) != len(value):
        raise ValidationError(_("Each reminder offset may appear only once."))


class Event(models.Model):
    class Kind(models.TextChoices):
        MATCHMAKING = "matchmaking", _("Matchmaking")
        CONFERENCE = "conference", _("Conference")
        WORKSHOP = "workshop", _("Workshop")
        WEBINAR = "webinar", _("Webinar")
        NETWORK_MEETING = "network_meeting", _("Network meeting")

    class Audience(models.TextChoices):
        PUBLIC = "public", pgettext_lazy("event audience", "Public")
        MEMBERS = "members", pgettext_lazy("event audience", "Members only")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("event status", "Draft")
        PUBLISHED = "published", pgettext_lazy("event status", "Published")
        CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("description (Markdown)"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NETWORK_MEETING)
    hub = models.ForeignKey(
        "hubs.Hub", on_delete=models.PROTECT, related_name="events", verbose_name=_("organising hub")
    )
    partners = models.ManyToManyField(
        "members.Partner", related_name="events", verbose_name=_("co-hosting partners"), blank=True
    )
    venue_name = models.CharField(_("venue"), max_length=200, blank=True)
    venue_address = models.CharField(_("venue address"), max_length=300, blank=True)
    online_url = models.URLField(
        _("online link"), max_length=500, blank=True, help_text=_("Shown only to confirmed participants.")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    registration_opens_at = models.DateTimeField(
        _("registration opens"), null=True, blank=True, help_text=_("Empty: open as soon as published.")
    )
    registration_closes_at = models.DateTimeField(
        _("registration closes"), null=True, blank=True, help_text=_("Empty: open until the event starts.")
    )
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True, help_text=_("Empty: unlimited."))
    member_reserved_seats = models.PositiveIntegerField(
        _("seats held for members"), default=0, help_text=_("Seats only members can take until the date below.")
    )
    member_reserved_until = models.DateTimeField(_("seats held for members until"), null=True, blank=True)
    audience = models.CharField(_("audience"), max_length=10, choices=Audience.choices, default=Audience.PUBLIC)
    price_dkk = models.PositiveIntegerField(
        _("price for non-members (DKK)"),
        default=0,
        help_text=_(
            "Without VAT; 0 means free. Invoiced to the participant's organisation, or to a guest, on confirmation."
        ),
    )
    member_price_dkk = models.PositiveIntegerField(
        _("price for members (DKK)"), default=0, help_text=_("Without VAT; 0 means members attend free.")
    )
    cancellation_deadline = models.DateTimeField(
        _("free cancellation until"),
        null=True,
        blank=True,
        help_text=_("A paid registration cancelled before this is credited in full. Empty: until the event starts."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    image = models.ImageField(
        _("image"),
        upload_to="events/",
        blank=True,
        validators=[validate_event_image],
        help_text=_(
            "JPEG, PNG or WebP, at most 2 MB, about 1200 × 500 pixels. Without one, the event kind's picture is shown."
        ),
    )
    reminder_offsets_hours = models.JSONField(
        _("reminders (hours before start)"),
        default=default_reminder_offsets,
        blank=True,
        validators=[validate_reminder_offsets],
        help_text=_("For example [168, 24]: seven days and one day before."),
    )
    # Bumped when time or place changes, so calendar clients replace the entry they hold (RFC 5545 SEQUENCE).
    ics_sequence = models.PositiveIntegerField(_("calendar revision"), default=0, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="events_event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True) | models.Q(member_reserved_seats__lte=models.F("capacity")),
                name="events_event_reserved_within_capacity",
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="events_event_status_start_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("events:detail", kwargs={"slug": self.slug})

    def clean(self):
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The event must end after it starts.")})
        if self.capacity is not None and self.member_reserved_seats > self.capacity:
            raise ValidationError({"member_reserved_seats": _("More seats are held for members than there are.")})
        if self.member_reserved_seats and not self.member_reserved_until:
            raise ValidationError({"member_reserved_until": _("Say until when the member seats are held.")})
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            raise ValidationError({"registration_closes_at": _("Registration must close after it opens.")})

    @property
    def is_online(self) -> bool:
        return bool(self.online_url) and not self.venue_name

    @property
    def is_members_only(self) -> bool:
        return self.audience == self.Audience.MEMBERS

    @property
    def is_paid(self) -> bool:
        return bool(self.price_dkk or self.member_price_dkk)

    def free_cancellation_until(self):
        return self.cancellation_deadline or self.starts_at

    def registration_closes(self):
        return self.registration_closes_at or self.starts_at

    def registration_is_open(self, *, now=None) -> bool:
        now = now or timezone.now()
        if self.status != self.Status.PUBLISHED:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        return now < self.registration_closes()

    def member_seats_held(self, *, now=None) -> bool:
        now = now or timezone.now()
        return bool(self.member_reserved_seats and self.member_reserved_until and now < self.member_reserved_until)

    def cancel(self, *, reason: str = "", now=None):
        if self.status == self.Status.CANCELLED:
            raise InvalidTransition("the event is already cancelled")
        self.status = self.Status.CANCELLED
        self.cancelled_at = now or timezone.now()
        self.cancellation_reason = reason

    def publish(self):
        if self.status != self.Status.DRAFT:
            raise InvalidTransition(f"cannot publish a {self.status} event")
        self.status = self.Status.PUBLISHED

    def reminder_due_times(self) -> list[tuple[int, object]]:
        return [(hours, self.starts_at - timedelta(hours=hours)) for hours in sorted(self.reminder_offsets_hours)]


class Question(models.Model):
    """A custom question staff add to one event's sign-up form."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        SINGLE_CHOICE = "single", _("Single choice")
        MULTIPLE_CHOICE = "multiple", _("Multiple choice")
        YES_NO = "yes_no", _("Yes/no")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions", verbose_name=_("event"))
    label = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("sign-up question")
        verbose_name_plural = _("sign-up questions")
        ordering = ["event", "ordering", "pk"]

    def __str__(self):
        return self.label

    @property
    def has_options(self) -> bool:
        return self.kind in (self.Kind.SINGLE_CHOICE, self.Kind.MULTIPLE_CHOICE)


class QuestionOption(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options", verbose_name=_("question"))
    label = models.CharField(_("option"), max_length=200)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=0)

    class Meta:
        verbose_name = _("answer option")
        verbose_name_plural = _("answer options")
        ordering = ["question", "ordering", "pk"]

    def __str__(self):
        return self.label


# An anonymised registration keeps a unique address that can never be mailed (one registration per email and event).
ANONYMISED_EMAIL_DOMAIN = "@anonymised.invalid"


class Registration(models.Model):
    """One person's place at one event. Seats change only in events.services under a lock on the event row."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", pgettext_lazy("registration status", "Confirmed")
        WAITLISTED = "waitlisted", pgettext_lazy("registration status", "Waitlisted")
        CANCELLED = "cancelled", pgettext_lazy("registration status", "Cancelled")

    class Attendance(models.TextChoices):
        UNKNOWN = "", pgettext_lazy("attendance", "Not recorded")
        ATTENDED = "attended", pgettext_lazy("attendance", "Attended")
        NO_SHOW = "no_show", pgettext_lazy("attendance", "No-show")

    # No index of its own: events_reg_event_status_idx begins with the event, and a sign-up writes one index less
    # while it holds the event's lock.
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event"), db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_registrations",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        "members.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_registrations",
        verbose_name=_("member organisation"),
    )
    full_name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    job_title = models.CharField(_("role"), max_length=120, blank=True)
    # Where a paid seat's invoice goes when no member organisation pays it (Danish invoices name the buyer's
    # address); a CVR number makes it a company's invoice, addressed to the organisation.
    invoice_address = models.CharField(_("invoice address"), max_length=200, blank=True)
    invoice_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    invoice_city = models.CharField(_("city"), max_length=100, blank=True)
    invoice_cvr = models.CharField(_("CVR number"), max_length=8, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # A snapshot at sign-up: it decides whether the person may take a seat held for members.
    is_member = models.BooleanField(_("member"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # The waitlist is ordered by this time (then pk); staff move someone up by setting it earlier.
    waitlisted_at = models.DateTimeField(_("waitlisted"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.UNKNOWN, blank=True
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    consent_at = models.DateTimeField(_("privacy consent given"))
    newsletter_opt_in = models.BooleanField(_("newsletter opt-in"), default=False)
    newsletter_opt_in_at = models.DateTimeField(_("newsletter opt-in time"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now, db_index=True)
    # Set when retention removed a guest's name, email, role and answers; the row stays for the statistics.
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["event", "created_at", "pk"]
        constraints = [
            # One live registration per email and event; a cancelled one does not block signing up again.
            models.UniqueConstraint(
                "event",
                Lower("email"),
                condition=~models.Q(status="cancelled"),
                name="events_registration_one_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["confirmed", "waitlisted", "cancelled"]),
                name="events_registration_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "waitlisted_at"], name="events_reg_event_status_idx"),
        ]

    def __str__(self):
        return f"{self.full_name} <{self.email}> – {self.event}"

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED

    def confirm(self, *, now=None):
        if self.status == self.Status.CONFIRMED:
            raise InvalidTransition("the registration is already confirmed")
        if self.status == self.Status.CANCELLED and self.pk is not None:
            raise InvalidTransition("a cancelled registration is not confirmed again")
        self.status = self.Status.CONFIRMED
        self.confirmed_at = now or timezone.now()

    def waitlist(self, *, now=None):
        if self.status == self.Status.WAITLISTED:
            raise InvalidTransition("the registration is already on the waitlist")
        if self.status == self.Status.CANCELLED and self.pk is not None:
            raise InvalidTransition("a cancelled registration is not waitlisted again")
        self.status = self.Status.WAITLISTED
        self.waitlisted_at = now or timezone.now()
        self.confirmed_at = None

    def cancel(self, *, now=None):
        if self.status == self.Status.CANCELLED:
            raise InvalidTransition("the registration is already cancelled")
        self.status = self.Status.CANCELLED
        self.cancelled_at = now or timezone.now()

    def mark_attended(self, *, now=None):
        if self.status != self.Status.CONFIRMED:
            raise InvalidTransition("only a confirmed participant can check in")
        if self.attendance == self.Attendance.ATTENDED:
            raise InvalidTransition("already checked in")
        self.attendance = self.Attendance.ATTENDED
        self.checked_in_at = now or timezone.now()

    def mark_no_show(self):
        if self.status != self.Status.CONFIRMED or self.attendance == self.Attendance.ATTENDED:
            raise InvalidTransition("only a confirmed participant who did not check in is a no-show")
        self.attendance = self.Attendance.NO_SHOW


class Answer(models.Model):
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="answers", verbose_name=_("registration")
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question"))
    text = models.TextField(_("text answer"), blank=True)
    yes_no = models.BooleanField(_("yes/no answer"), null=True, blank=True)
    options = models.ManyToManyField(
        QuestionOption, related_name="answers", verbose_name=_("chosen options"), blank=True
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["registration", "question__ordering", "question__pk"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "question"], name="events_answer_one_per_question"),
        ]

    def __str__(self):
        return f"{self.question}: {self.display_value()}"

    def display_value(self) -> str:
        """The answer as one line of text, for exports and the admin; reads prefetched options."""
        if self.question.kind == Question.Kind.YES_NO:
            if self.yes_no is None:
                return ""
            return str(_("Yes") if self.yes_no else _("No"))
        if self.question.has_options:
            return "; ".join(option.label for option in self.options.all())
        return self.text
