"""Events, their sign-up questions and registrations in the admin, scoped to the hubs a staff member runs.
Admin actions collect what they need (a reason, a message) and call the services."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline, TranslationTabularInline

from common import exports
from events import retention, selectors, services
from events.forms import CancelEventForm, ParticipantsEmailForm, ReasonForm
from events.models import Answer, Event, InvalidTransition, Question, QuestionOption, Registration
from hubs.scoping import HubScopedAdminMixin

Status = Registration.Status
CHART_WIDTH, CHART_HEIGHT = 600, 160


def status_badge(obj):
    return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())


def action_form(modeladmin, request, queryset, *, form_class, title: str, action: str):
    """Render an intermediate page for an admin action; returns (form, response) where response is None once
    the form was submitted and is valid."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form, None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return form, TemplateResponse(request, "admin/events/action_form.html", context)


class QuestionInline(TranslationStackedInline):
    model = Question
    extra = 0
    fields = ["label", "help_text", "kind", "required", "ordering"]
    show_change_link = True


class QuestionOptionInline(TranslationTabularInline):
    model = QuestionOption
    extra = 1


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    fields = ["full_name", "email", "organisation_name", "status", "attendance", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ["status", "waitlisted_at", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(HubScopedAdminMixin, TranslationAdmin):
    hub_lookup = "hub"
    # What staff check first (status, seats) comes before what the filters also show (hub, kind, audience).
    list_display = ["title", "starts_at", "status_column", "seats_column", "hub", "kind"]
    list_filter = ["status", "kind", "audience", "hub"]
    search_fields = ["title", "slug", "venue_name"]
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ("title_da",)}
    filter_horizontal = ["partners"]
    list_select_related = ["hub"]
    inlines = [QuestionInline, RegistrationInline]
    actions = ["export_participants", "email_participants", "cancel_events", "mark_no_shows"]
    change_form_template = "admin/events/event/change_form.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "kind", "status", "image"]}),
        (_("Organisers"), {"fields": ["hub", "partners"]}),
        (_("Time and place"), {"fields": ["starts_at", "ends_at", "venue_name", "venue_address", "online_url"]}),
        (
            _("Registration"),
            {
                "fields": [
                    "audience",
                    "price_dkk",
                    "registration_opens_at",
                    "registration_closes_at",
                    "capacity",
                    "member_reserved_seats",
                    "member_reserved_until",
                    "reminder_offsets_hours",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                confirmed_count=Count("registrations", filter=Q(registrations__status=Status.CONFIRMED)),
                waitlist_count=Count("registrations", filter=Q(registrations__status=Status.WAITLISTED)),
            )
        )

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return status_badge(obj)

    @admin.display(description=_("seats (confirmed / capacity, waiting)"))
    def seats_column(self, obj):
        capacity = obj.capacity if obj.capacity is not None else "∞"
        return f"{obj.confirmed_count} / {capacity}, {obj.waitlist_count}"

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        stored = Event.objects.get(pk=obj.pk)
        before = services.event_time_and_place(stored)
        cancelling = obj.status == Event.Status.CANCELLED and stored.status != Event.Status.CANCELLED
        if cancelling:
            # Cancelling through the status field must tell the registrants just as the action does.
            obj.status = stored.status
        super().save_model(request, obj, form, change)
        request.events_update_result = services.event_updated(event=obj, before=before, actor=request.user)
        if cancelling:
            told = services.event_cancel(event=obj, actor=request.user, reason=obj.cancellation_reason)
            self.message_user(
                request,
                ngettext("%(count)d registrant was told.", "%(count)d registrants were told.", told) % {"count": told},
                messages.SUCCESS,
            )

    def response_change(self, request, obj):
        result = getattr(request, "events_update_result", None)
        if result and result["notified"]:
            self.message_user(
                request,
                ngettext(
                    "Time or place changed: %(count)d registrant was told.",
                    "Time or place changed: %(count)d registrants were told.",
                    result["notified"],
                )
                % {"count": result["notified"]},
                messages.INFO,
            )
        if result and result["promoted"]:
            self.message_user(
                request,
                ngettext(
                    "%(count)d person was promoted from the waitlist.",
                    "%(count)d people were promoted from the waitlist.",
                    result["promoted"],
                )
                % {"count": result["promoted"]},
                messages.INFO,
            )
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if event is not None:
            extra_context["chart"] = registrations_chart(event)
            extra_context["checkin_url"] = reverse("events:checkin", kwargs={"slug": event.slug})
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Export participants (CSV)"))
    def export_participants(self, request, queryset):
        events = list(queryset.prefetch_related("questions"))
        questions = [question for event in events for question in event.questions.all()]
        header = [
            _("event"),
            _("status"),
            _("name"),
            _("email"),
            _("organisation"),
            _("role"),
            _("member"),
            _("registered"),
            _("attendance"),
            _("newsletter opt-in"),
            *[question.label for question in questions],
        ]
        return exports.csv_response(
            filename=f"participants-{timezone.localdate():%Y-%m-%d}.csv",
            header=header,
            rows=self._participant_rows(events=events, questions=questions),
        )

    @staticmethod
    def _participant_rows(*, events, questions):
        for event in events:
            for registration in selectors.export_registrations(event=event):
                answers = {answer.question_id: answer.display_value() for answer in registration.answers.all()}
                yield [
                    event.title,
                    registration.get_status_display(),
                    registration.full_name,
                    registration.email,
                    registration.organisation_name,
                    registration.job_title,
                    _("yes") if registration.is_member else _("no"),
                    timezone.localtime(registration.created_at).strftime("%Y-%m-%d %H:%M"),
                    registration.get_attendance_display(),
                    _("yes") if registration.newsletter_opt_in else _("no"),
                    *[answers.get(question.pk, "") for question in questions],
                ]

    @admin.action(description=_("Email participants"))
    def email_participants(self, request, queryset):
        form, response = action_form(
            self,
            request,
            queryset,
            form_class=ParticipantsEmailForm,
            title=_("Email participants"),
            action="email_participants",
        )
        if response:
            return response
        sent = sum(
            services.event_participants_email(
                event=event,
                actor=request.user,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
                statuses=form.cleaned_data["statuses"],
            )
            for event in queryset
        )
        self.message_user(
            request,
            ngettext("%(count)d mail queued.", "%(count)d mails queued.", sent) % {"count": sent},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Cancel the event and tell the registrants"))
    def cancel_events(self, request, queryset):
        form, response = action_form(
            self, request, queryset, form_class=CancelEventForm, title=_("Cancel events"), action="cancel_events"
        )
        if response:
            return response
        told = 0
        for event in queryset:
            try:
                told += services.event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
            except InvalidTransition:
                self.message_user(request, _("%(event)s was already cancelled.") % {"event": event}, messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d registrant was told.", "%(count)d registrants were told.", told) % {"count": told},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Mark no-shows (after the event)"))
    def mark_no_shows(self, request, queryset):
        for event in queryset:
            try:
                marked = services.event_no_shows_mark(event=event, actor=request.user)
            except InvalidTransition:
                self.message_user(request, _("%(event)s is not over yet.") % {"event": event}, messages.WARNING)
                continue
            self.message_user(
                request,
                _("%(event)s: %(count)d marked as no-show.") % {"event": event, "count": marked},
                messages.SUCCESS,
            )


def registrations_chart(event: Event) -> dict:
    """An SVG bar chart of sign-ups per day, drawn with attributes only (no inline style, which the CSP forbids)."""
    days = selectors.registrations_by_day(event=event)
    if not days:
        return {"bars": [], "width": CHART_WIDTH, "height": CHART_HEIGHT}
    peak = max(day["count"] for day in days)
    slot = CHART_WIDTH / len(days)
    bars = []
    for index, day in enumerate(days):
        height = round(day["count"] / peak * (CHART_HEIGHT - 20), 1)
        bars.append(
            {
                "x": round(index * slot + slot * 0.1, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(slot * 0.8, 1),
                "height": height,
                **day,
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "total": days[-1]["total"]}


@admin.register(Question)
class QuestionAdmin(HubScopedAdminMixin, TranslationAdmin):
    hub_lookup = "event__hub"
    list_display = ["label", "event", "kind", "required", "ordering"]
    list_filter = ["kind", "required"]
    search_fields = ["label", "event__title"]
    list_select_related = ["event"]
    inlines = [QuestionOptionInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "event":
            kwargs["queryset"] = EventAdmin(Event, self.admin_site).get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "text", "yes_no", "options"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(HubScopedAdminMixin, admin.ModelAdmin):
    hub_lookup = "event__hub"
    # Status and attendance right after who and where, so that they stay in view at 1280 px.
    list_display = ["full_name", "event", "status_column", "attendance", "email"]
    list_filter = ["status", "attendance", "is_member", "event__hub"]
    search_fields = ["full_name", "email", "organisation_name", "event__title"]
    list_select_related = ["event", "event__hub"]
    raw_id_fields = ["event", "user", "organisation"]
    readonly_fields = [
        "event",
        "status",
        "waitlisted_at",
        "confirmed_at",
        "cancelled_at",
        "checked_in_at",
        "consent_at",
        "newsletter_opt_in_at",
        "created_at",
        "anonymised_at",
    ]
    inlines = [AnswerInline]
    actions = ["promote", "move_to_waitlist", "cancel_registrations", "check_in"]

    def has_add_permission(self, request):
        # People sign up through the public form or are added by the services; a bare row would skip the seat lock.
        return False

    def get_urls(self):
        return [
            path("retention/", self.admin_site.admin_view(self.retention_view), name="events_registration_retention"),
            *super().get_urls(),
        ]

    def retention_view(self, request):
        """What the next retention run will anonymise or delete. Retention spans every hub: superusers only."""
        if not request.user.is_superuser:
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Retention: what the next run will remove"),
            "opts": self.model._meta,
            "preview": retention.retention_preview(),
        }
        return TemplateResponse(request, "admin/events/retention.html", context)

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return status_badge(obj)

    def _with_reason(self, request, queryset, *, action, title, service, done):
        form, response = action_form(self, request, queryset, form_class=ReasonForm, title=title, action=action)
        if response:
            return response
        changed = 0
        for registration in queryset:
            try:
                service(registration=registration, actor=request.user, reason=form.cleaned_data["reason"])
            except InvalidTransition:
                self.message_user(
                    request,
                    _("%(who)s: not possible from “%(status)s”.")
                    % {"who": registration.full_name, "status": registration.get_status_display()},
                    messages.WARNING,
                )
                continue
            changed += 1
        self.message_user(request, done % {"count": changed}, messages.SUCCESS)
        return None

    @admin.action(description=_("Promote from the waitlist (may exceed capacity)"))
    def promote(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="promote",
            title=_("Promote from the waitlist"),
            service=services.registration_promote,
            done=_("%(count)d promoted."),
        )

    @admin.action(description=_("Move to the waitlist"))
    def move_to_waitlist(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="move_to_waitlist",
            title=_("Move to the waitlist"),
            service=services.registration_move_to_waitlist,
            done=_("%(count)d moved to the waitlist."),
        )

    @admin.action(description=_("Cancel registrations"))
    def cancel_registrations(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            action="cancel_registrations",
            title=_("Cancel registrations"),
            service=services.registration_cancel,
            done=_("%(count)d cancelled."),
        )

    @admin.action(description=_("Check in"))
    def check_in(self, request, queryset):
        checked = 0
        for registration in queryset:
            try:
                services.registration_check_in(registration=registration, actor=request.user)
            except InvalidTransition:
                continue
            checked += 1
        self.message_user(request, _("%(count)d checked in.") % {"count": checked}, messages.SUCCESS)


import events.matchmaking.admin  # noqa: E402,F401  (matchmaking admin lives in its own module)
