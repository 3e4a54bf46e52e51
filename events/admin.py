"""Events, their sign-up questions and registrations in the admin, scoped to the hubs a staff member runs."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline, TranslationTabularInline

from events.models import Answer, Event, Question, QuestionOption, Registration
from hubs.scoping import HubScopedAdminMixin


def status_badge(obj):
    return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())


class QuestionInline(TranslationStackedInline):
    model = Question
    extra = 0
    fields = ["label", "help_text", "kind", "required", "ordering"]
    show_change_link = True


class QuestionOptionInline(TranslationTabularInline):
    model = QuestionOption
    extra = 1


@admin.register(Event)
class EventAdmin(HubScopedAdminMixin, TranslationAdmin):
    hub_lookup = "hub"
    list_display = ["title", "starts_at", "hub", "kind", "audience", "status_column", "capacity"]
    list_filter = ["status", "kind", "audience", "hub"]
    search_fields = ["title", "slug", "venue_name"]
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ("title_da",)}
    filter_horizontal = ["partners"]
    list_select_related = ["hub"]
    inlines = [QuestionInline]

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return status_badge(obj)


@admin.register(Question)
class QuestionAdmin(HubScopedAdminMixin, TranslationAdmin):
    hub_lookup = "event__hub"
    list_display = ["label", "event", "kind", "required", "ordering"]
    list_filter = ["kind", "required"]
    search_fields = ["label", "event__title"]
    list_select_related = ["event"]
    inlines = [QuestionOptionInline]


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
    list_display = ["full_name", "email", "event", "status_column", "is_member", "attendance", "created_at"]
    list_filter = ["status", "attendance", "is_member", "event__hub"]
    search_fields = ["full_name", "email", "organisation_name", "event__title"]
    list_select_related = ["event", "event__hub"]
    raw_id_fields = ["event", "user", "organisation"]
    inlines = [AnswerInline]

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj):
        return status_badge(obj)


import events.matchmaking.admin  # noqa: E402,F401  (matchmaking admin lives in its own module)
