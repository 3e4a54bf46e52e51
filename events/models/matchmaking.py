"""Matchmaking records: per-event settings, profiles, meeting sessions and slots, requests, meetings, feedback, and
the scheduler's runs."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.errors import InvalidTransition


class MatchmakingConfig(models.Model):
    """Matchmaking is on for an event when it has an enabled config; the numbers here are set per event."""

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, related_name="matchmaking", verbose_name=_("event")
    )
    enabled = models.BooleanField(_("matchmaking on"), default=True)
    tables = models.PositiveSmallIntegerField(_("number of tables"), default=10)
    request_expiry_hours = models.PositiveSmallIntegerField(
        _("requests expire after (hours)"), default=72, help_text=_("Unanswered requests expire after this time.")
    )
    max_pending_requests = models.PositiveSmallIntegerField(
        _("pending requests per participant"), default=10, help_text=_("How many unanswered requests one may send.")
    )
    scheduled_at = models.DateTimeField(_("last scheduled"), null=True, blank=True)
    # Bumped by every change to what the scheduler reads (meetings, availability, slots, tables, fixed meetings,
    # placements): a run solved from an older revision is not applied.
    revision = models.PositiveIntegerField(_("input revision"), default=0, editable=False)

    class Meta:
        verbose_name = _("matchmaking settings")
        verbose_name_plural = _("matchmaking settings")

    def __str__(self):
        return str(self.event)


class Profile(models.Model):
    """A confirmed participant's matchmaking profile at one event."""

    class Kind(models.TextChoices):
        COMPANY = "company", pgettext_lazy("participant type", "Company")
        RESEARCHER = "researcher", pgettext_lazy("participant type", "Researcher")
        HOSPITAL = "hospital", pgettext_lazy("participant type", "Hospital")
        PUBLIC_BODY = "public_body", pgettext_lazy("participant type", "Public body")
        INVESTOR = "investor", pgettext_lazy("participant type", "Investor")

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="matchmaking_profiles", verbose_name=_("event")
    )
    registration = models.OneToOneField(
        "events.Registration",
        on_delete=models.CASCADE,
        related_name="matchmaking_profile",
        verbose_name=_("registration"),
    )
    # Empty once the person deleted their account: the profile stays, anonymised, so the other side keeps its
    # past meetings and feedback.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="matchmaking_profiles",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        "members.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="matchmaking_profiles",
        verbose_name=_("organisation"),
    )
    display_name = models.CharField(_("name"), max_length=200)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    headline = models.CharField(_("who we are"), max_length=300, blank=True)
    offers = models.TextField(_("what we offer"), blank=True)
    seeks = models.TextField(_("what we seek"), blank=True)
    offer_tags = models.ManyToManyField(
        "members.Tag", related_name="matchmaking_offers", verbose_name=_("offer tags"), blank=True
    )
    seek_tags = models.ManyToManyField(
        "members.Tag", related_name="matchmaking_seeks", verbose_name=_("seek tags"), blank=True
    )
    segments = models.ManyToManyField(
        "members.Segment", related_name="matchmaking_profiles", verbose_name=_("segments"), blank=True
    )
    languages = models.JSONField(_("meeting languages"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("matchmaking profile")
        verbose_name_plural = _("matchmaking profiles")
        ordering = ["event", "display_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="matchmaking_profile_one_per_user_event"),
        ]

    def __str__(self):
        return f"{self.display_name} ({self.organisation_name})" if self.organisation_name else self.display_name


class MeetingSession(models.Model):
    """A block of meeting time, e.g. 10:00-12:00 in 30-minute slots; its slots are created with it."""

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="meeting_sessions", verbose_name=_("event")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    slot_count = models.PositiveSmallIntegerField(_("number of slots"), default=4)

    class Meta:
        verbose_name = _("meeting session")
        verbose_name_plural = _("meeting sessions")
        ordering = ["event", "starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slot_minutes__gt=0, slot_count__gt=0), name="matchmaking_session_has_slots"
            ),
        ]

    def __str__(self):
        return self.name or timezone.localtime(self.starts_at).strftime("%Y-%m-%d %H:%M")


class Slot(models.Model):
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="meeting_slots")
    session = models.ForeignKey(
        MeetingSession, on_delete=models.CASCADE, related_name="slots", verbose_name=_("session")
    )
    index = models.PositiveSmallIntegerField(_("number in session"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta:
        verbose_name = _("meeting slot")
        verbose_name_plural = _("meeting slots")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "index"], name="matchmaking_slot_unique_index"),
        ]

    def __str__(self):
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"


class Unavailability(models.Model):
    """A slot a participant cannot take."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="unavailable")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="unavailable")

    class Meta:
        verbose_name = _("unavailable slot")
        verbose_name_plural = _("unavailable slots")
        constraints = [
            models.UniqueConstraint(fields=["profile", "slot"], name="matchmaking_unavailability_once"),
        ]

    def __str__(self):
        return f"{self.profile}: {self.slot}"


class MeetingRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("meeting request status", "Pending")
        ACCEPTED = "accepted", pgettext_lazy("meeting request status", "Accepted")
        DECLINED = "declined", pgettext_lazy("meeting request status", "Declined")
        EXPIRED = "expired", pgettext_lazy("meeting request status", "Expired")
        CANCELLED = "cancelled", pgettext_lazy("meeting request status", "Cancelled")

    LIVE = (Status.PENDING, Status.ACCEPTED)

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="meeting_requests", verbose_name=_("event")
    )
    sender = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="sent_requests", verbose_name=_("from"))
    recipient = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="received_requests", verbose_name=_("to")
    )
    message = models.TextField(_("message"), max_length=1000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting request")
        verbose_name_plural = _("meeting requests")
        ordering = ["-created_at", "pk"]
        constraints = [
            # One live request per pair, whoever asked first: a second one would be a second meeting.
            models.UniqueConstraint(
                Least("sender", "recipient"),
                Greatest("sender", "recipient"),
                condition=models.Q(status__in=["pending", "accepted"]),
                name="matchmaking_request_one_live_per_pair",
            ),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("recipient")), name="matchmaking_request_not_to_self"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="matchmaking_request_due_idx")]

    def __str__(self):
        return f"{self.sender} → {self.recipient}"

    def _answer(self, status, *, now):
        if self.status != self.Status.PENDING:
            raise InvalidTransition(f"cannot answer a {self.status} request")
        if now >= self.expires_at:
            raise InvalidTransition("the request has expired")
        self.status = status
        self.answered_at = now

    def accept(self, *, now):
        self._answer(self.Status.ACCEPTED, now=now)

    def decline(self, *, now):
        self._answer(self.Status.DECLINED, now=now)

    def expire(self, *, now):
        if self.status != self.Status.PENDING or now < self.expires_at:
            raise InvalidTransition("only a pending request past its time expires")
        self.status = self.Status.EXPIRED
        self.answered_at = now

    def cancel(self, *, now):
        """One side left matchmaking: an open request or an agreed meeting ends."""
        if self.status not in self.LIVE:
            raise InvalidTransition(f"a {self.status} request is not cancelled")
        self.status = self.Status.CANCELLED
        self.answered_at = now


class Meeting(models.Model):
    """An accepted request; the scheduler gives it a slot and a table, staff may lock it there."""

    class Outcome(models.TextChoices):
        UNKNOWN = "", pgettext_lazy("meeting outcome", "Not recorded")
        HELD = "held", pgettext_lazy("meeting outcome", "Held")
        NO_SHOW = "no_show", pgettext_lazy("meeting outcome", "No-show")

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="meetings", verbose_name=_("event")
    )
    request = models.OneToOneField(
        MeetingRequest, on_delete=models.CASCADE, related_name="meeting", verbose_name=_("request")
    )
    first = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+", verbose_name=_("participant"))
    second = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="+", verbose_name=_("participant"))
    slot = models.ForeignKey(
        Slot, on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings", verbose_name=_("slot")
    )
    table = models.PositiveSmallIntegerField(_("table"), null=True, blank=True)
    locked = models.BooleanField(_("locked"), default=False)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default="", blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["slot__starts_at", "table", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "table"],
                condition=models.Q(slot__isnull=False),
                name="matchmaking_meeting_one_per_seat",
            ),
            models.CheckConstraint(
                condition=models.Q(slot__isnull=True, table__isnull=True, locked=False)
                | models.Q(slot__isnull=False, table__isnull=False),
                name="matchmaking_meeting_placed_whole",
            ),
        ]

    def __str__(self):
        return f"{self.first.display_name} – {self.second.display_name}"

    def counterpart(self, profile):
        return self.second if profile.pk == self.first_id else self.first

    def lock(self):
        if self.slot_id is None:
            raise InvalidTransition("only a placed meeting can be locked")
        self.locked = True

    def mark(self, outcome):
        if self.slot_id is None:
            raise InvalidTransition("an unplaced meeting cannot be held")
        self.outcome = outcome


class MeetingFeedback(models.Model):
    """After the event, each side says whether the meeting happened and what came of it."""

    class Result(models.TextChoices):
        NOTHING = "nothing", pgettext_lazy("meeting result", "Nothing further")
        FOLLOW_UP = "follow_up", pgettext_lazy("meeting result", "A follow-up meeting")
        COLLABORATION = "collaboration", pgettext_lazy("meeting result", "A collaboration or project")
        DEAL = "deal", pgettext_lazy("meeting result", "A contract or investment")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("meeting"))
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("from"))
    happened = models.BooleanField(_("the meeting happened"))
    result = models.CharField(_("what came of it"), max_length=20, choices=Result.choices, blank=True)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("given"), default=timezone.now)

    class Meta:
        verbose_name = _("meeting feedback")
        verbose_name_plural = _("meeting feedback")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "profile"], name="matchmaking_feedback_once_per_side"),
        ]

    def __str__(self):
        return f"{self.profile}: {self.meeting}"


class ScheduleRun(models.Model):
    """One run of the scheduler (the whole schedule, or one late meeting fitted in) that a worker solves without
    holding the event's lock. It is applied only when the input it was built from is still current."""

    class Kind(models.TextChoices):
        SCHEDULE = "schedule", pgettext_lazy("schedule run kind", "Whole schedule")
        LATE_FIT = "late_fit", pgettext_lazy("schedule run kind", "Late meeting")

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("schedule run status", "Queued")
        SOLVING = "solving", pgettext_lazy("schedule run status", "Solving")
        APPLIED = "applied", pgettext_lazy("schedule run status", "Applied")
        STALE = "stale", pgettext_lazy("schedule run status", "Outdated, not applied")
        FAILED = "failed", pgettext_lazy("schedule run status", "Failed")

    class Error(models.TextChoices):
        CLOSED = "closed", _("Matchmaking is not open for this event.")
        CONFLICT = "conflict", _("Locked meetings conflict with each other or with availability.")
        GONE = "gone", _("The meeting no longer exists.")
        PLACED = "placed", _("This meeting already has a slot.")
        WORKER_LOST = "worker_lost", _("The worker stopped before the run finished. Please run it again.")

    ACTIVE = (Status.QUEUED, Status.SOLVING)

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, related_name="schedule_runs", verbose_name=_("event")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SCHEDULE)
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="late_fit_runs",
        verbose_name=_("meeting"),
    )
    allow_move = models.BooleanField(_("placed meetings may move"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    revision = models.PositiveIntegerField(_("input revision"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    solving_at = models.DateTimeField(_("solving since"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    solve_seconds = models.FloatField(_("solver seconds"), null=True, blank=True)
    lock_ms = models.FloatField(_("lock held (ms)"), null=True, blank=True)
    accepted = models.PositiveIntegerField(_("accepted meetings"), null=True, blank=True)
    placed = models.PositiveIntegerField(_("placed"), null=True, blank=True)
    upper_bound = models.PositiveIntegerField(_("at most possible"), null=True, blank=True)
    gaps = models.PositiveIntegerField(_("idle gaps"), null=True, blank=True)
    moved = models.PositiveIntegerField(_("meetings moved"), null=True, blank=True)
    changed_profiles = models.PositiveIntegerField(_("agendas changed"), null=True, blank=True)
    solver_status = models.CharField(_("solver status"), max_length=10, blank=True)
    error = models.CharField(_("error"), max_length=20, choices=Error.choices, blank=True)

    class Meta:
        verbose_name = _("schedule run")
        verbose_name_plural = _("schedule runs")
        ordering = ["-queued_at", "-pk"]
        constraints = [
            # One run at a time per event: two solves of one event would each be built without the other's result.
            models.UniqueConstraint(
                fields=["event"],
                condition=models.Q(status__in=["queued", "solving"]),
                name="matchmaking_run_one_active_per_event",
            ),
        ]

    def __str__(self):
        return f"{self.event}: {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def error_message(self) -> str:
        if self.status == self.Status.STALE:
            return _("Participants changed the schedule's input while it was being solved, so nothing was applied.")
        return self.get_error_display()

    def start_solving(self, *, revision: int, now):
        """Claim the run for a solve (again, after an outdated result) from the given input revision."""
        if self.status not in self.ACTIVE:
            raise InvalidTransition(f"a {self.status} run is not solved")
        self.status = self.Status.SOLVING
        self.revision = revision
        self.attempts += 1
        self.solving_at = self.solving_at or now

    def _finish(self, status, *, now):
        if self.status != self.Status.SOLVING:
            raise InvalidTransition(f"a {self.status} run cannot become {status}")
        self.status = status
        self.finished_at = now

    def mark_applied(self, *, now):
        self._finish(self.Status.APPLIED, now=now)

    def mark_stale(self, *, now):
        self._finish(self.Status.STALE, now=now)

    def fail(self, *, error: str, now):
        if self.status not in self.ACTIVE:
            raise InvalidTransition(f"a {self.status} run cannot fail")
        self.status = self.Status.FAILED
        self.error = error
        self.finished_at = now
