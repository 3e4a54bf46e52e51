"""Staff read every mail the system sends and can send a failed one again."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from outbox import services
from outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject", "language", "status_badge", "attempts", "sent_at"]
    list_filter = ["status", "language", "template"]
    search_fields = ["to", "subject", "template"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def changelist_view(self, request, extra_context=None):
        halt = services.delivery_halted()
        if halt is not None:
            self.message_user(
                request,
                _(
                    "Mail delivery is halted until %(until)s: the mail server refused the session (%(reason)s). "
                    "Check the mail server settings (EMAIL_URL); delivery tries again by itself then."
                )
                % {"until": date_format(timezone.localtime(halt.until), "DATETIME_FORMAT"), "reason": halt.reason},
                messages.ERROR,
            )
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.action(description=_("Send the selected mails again"), permissions=["view"])
    def resend(self, request, queryset):
        resent = 0
        resendable = [OutboxMessage.Status.FAILED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.QUEUED]
        for message in queryset.filter(status__in=resendable):
            services.message_resend(message=message)
            resent += 1
        self.message_user(
            request,
            ngettext("%(count)d mail queued again.", "%(count)d mails queued again.", resent) % {"count": resent},
            messages.SUCCESS,
        )
