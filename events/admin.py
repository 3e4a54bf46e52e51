"""Events, their sign-up questions and registrations in the admin, scoped to the hubs a staff member runs.
Admin actions collect what they need (a reason, a message) and call the services."""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline, TranslationTabularInline

from common import exports
from common.admin import ACCESSIBLE_FORMFIELDS, run_on_selected
from events import admin_views, selectors, services
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


def refused_from_status(service):
    """`service(registration)`, with a refusal told to staff by the status it was refused from (the model's own
    message is for developers)."""

    def run(registration):
        try:
            return service(registration)
        except InvalidTransition as refusal:
            raise InvalidTransition(
                _("not possible from “%(status)s”.") % {"status": registration.get_status_display()}
            ) from refusal

    return run


class EventAdminForm(forms.ModelForm):
    """The status select offers only the moves the event's rules allow; a cancellation can carry a message."""

    cancellation_message = forms.CharField(
        label=_("Message to the registrants"),
        help_text=_("Sent with the cancellation when you set the status to Cancelled."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self._current_status() in (None, Event.Status.CANCELLED):
            # Only an event that exists and is not cancelled yet can be cancelled with a message.
            del self.fields["cancellation_message"]
        status = self.fields.get("status")
        if status is not None:
            allowed = services.event_statuses_allowed(current=self._current_status())
            # Only the widget is narrowed: a forged value reaches clean_status and gets its message.
            status.widget.choices = [(value, label) for value, label in status.choices if value in allowed]

    def _current_status(self):
        return self.instance.status if self.instance.pk else None

    def clean_status(self):
        status = self.cleaned_data["status"]
        try:
            services.event_status_move_check(current=self._current_status(), new=status)
        except InvalidTransition as refusal:
            raise forms.ValidationError(str(refusal), code="event_status_move") from refusal
        return status

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("cancellation_message") and cleaned.get("status") != Event.Status.CANCELLED:
            self.add_error("cancellation_message", _("Write a message only when you cancel the event."))
        return cleaned


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
    form = EventAdminForm
    # What staff check first (status, seats) comes before what the filters also show (hub, kind, audience).
    list_display = ["title", "starts_at", "status_column", "seats_column", "hub", "kind"]
    list_filter = ["status", "kind", "audience", "hub"]
    search_fields = ["title", "slug", "venue_name"]
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ("title_da",)}
    formfield_overrides = ACCESSIBLE_FORMFIELDS
    list_select_related = ["hub"]
    inlines = [QuestionInline, RegistrationInline]
    actions = ["export_participants", "email_participants", "cancel_events", "mark_no_shows"]
    change_form_template = "admin/events/event/change_form.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "kind", "status", "cancellation_message", "image"]}),
        (_("Organisers"), {"fields": ["hub", "partners"]}),
        (_("Time and place"), {"fields": ["starts_at", "ends_at", "venue_name", "venue_address", "online_url"]}),
        (
            _("Registration"),
            {
                "fields": [
                    "audience",
                    "price_dkk",
                    "member_price_dkk",
                    "cancellation_deadline",
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

    def get_fieldsets(self, request, obj=None):
        """A new event has no cancellation message; a cancelled one shows the message it was cancelled with."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status != Event.Status.CANCELLED:
            return fieldsets
        swap = {"cancellation_message": [] if obj is None else ["cancellation_reason"]}
        return [
            (name, {**options, "fields": [kept for field in options["fields"] for kept in swap.get(field, [field])]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        # A cancelled event stays cancelled: people were told.
        if obj is not None and obj.status == Event.Status.CANCELLED:
            return ["status", "cancellation_reason"]
        return []

    def save_model(self, request, obj, form, change):
        """The services save: event_create audits a new event; event_update moves the status through its service
        (a cancellation tells everyone registered), audits the fields, and tells registrants of a new time or
        place."""
        if not change:
            services.event_create(actor=request.user, event=obj)
            return
        changes = {
            name: getattr(obj, name) for name in form.changed_data if name not in ("partners", "cancellation_message")
        }
        result = services.event_update(
            event=obj,
            actor=request.user,
            changes=changes,
            partners=form.cleaned_data["partners"] if "partners" in form.changed_data else None,
            cancellation_reason=form.cleaned_data.get("cancellation_message", ""),
        )
        obj.refresh_from_db()
        request.events_update_result = result
        if changes.get("status") == Event.Status.CANCELLED:
            told = result["told"]
            self.message_user(
                request,
                ngettext("%(count)d registrant was told.", "%(count)d registrants were told.", told) % {"count": told},
                messages.SUCCESS,
            )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except InvalidTransition as refusal:
            # The status changed after the form was shown (another person cancelled, say): nothing was saved.
            self.message_user(request, str(refusal), messages.ERROR)
            return redirect(request.get_full_path())

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
        told = []
        run_on_selected(
            self,
            request,
            queryset,
            lambda event: told.append(
                services.event_cancel(event=event, actor=request.user, reason=form.cleaned_data["reason"])
            ),
            done=lambda n: (
                ngettext("%(count)d registrant was told.", "%(count)d registrants were told.", sum(told))
                % {"count": sum(told)}
            ),
        )
        return None

    @admin.action(description=_("Mark no-shows (after the event)"))
    def mark_no_shows(self, request, queryset):
        marked = []

        def mark(event):
            try:
                marked.append(services.event_no_shows_mark(event=event, actor=request.user))
            except InvalidTransition as refusal:
                raise InvalidTransition(_("not over yet.")) from refusal

        run_on_selected(
            self,
            request,
            queryset,
            mark,
            done=lambda n: _("%(count)d marked as no-show.") % {"count": sum(marked)},
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
            path(
                "retention/",
                self.admin_site.admin_view(partial(admin_views.registration_retention, self)),
                name="events_registration_retention",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return status_badge(obj)

    def _with_reason(self, request, queryset, *, action, title, service, done):
        form, response = action_form(self, request, queryset, form_class=ReasonForm, title=title, action=action)
        if response:
            return response
        run_on_selected(
            self,
            request,
            queryset,
            refused_from_status(
                lambda row: service(registration=row, actor=request.user, reason=form.cleaned_data["reason"])
            ),
            done=lambda n: done % {"count": n},
            label=lambda row: row.full_name,
        )
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
        run_on_selected(
            self,
            request,
            queryset,
            refused_from_status(lambda row: services.registration_check_in(registration=row, actor=request.user)),
            done=lambda n: _("%(count)d checked in.") % {"count": n},
            label=lambda row: row.full_name,
        )


import events.matchmaking.admin  # noqa: E402,F401  (matchmaking admin lives in its own module)
