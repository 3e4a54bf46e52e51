"""Staff read every mail the system sends, rendered as the recipient sees it, and can send a failed one again."""

from functools import partial

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin

from outbox import admin_views, api, selectors
from outbox.models import OutboxMessage

# Shown first on a mail's page, with the HTML part rendered and the text part; the rest of the row follows.
LEADING_FIELDS = ["to", "subject", "status", "html_part", "text_part"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    # Status before recipient and subject, so that it stays in view at 1280 px.
    list_display = ["created_at", "status_badge", "to", "subject_shown", "attempts", "language"]
    list_filter = ["status", "language", "template"]
    search_fields = ["to", "subject", "template"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    # The bodies are shown through html_part and text_part, never as HTML source.
    readonly_fields = [
        *LEADING_FIELDS,
        *(
            field.name
            for field in OutboxMessage._meta.fields
            if field.name not in {*LEADING_FIELDS, "id", "body_html", "body_text"}
        ),
    ]
    fields = readonly_fields

    def changelist_view(self, request, extra_context=None):
        halt = selectors.delivery_halted()
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

    def get_object(self, request, object_id, from_field=None):
        message = super().get_object(request, object_id, from_field)
        if message is not None and message.render:
            # Written for the worker to render and not sent yet: rendered now, once, as the worker would.
            api.message_render(message)
        return message

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:pk>/html/",
                self.admin_site.admin_view(xframe_options_sameorigin(partial(admin_views.message_html, self))),
                name="outbox_outboxmessage_html",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="status-badge status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("subject"), ordering="subject")
    def subject_shown(self, obj):
        """The subject; for a mail the worker renders when it sends it (a sign-up's), which template it is."""
        if obj.subject or not obj.render:
            return obj.subject
        return format_html(
            '<span class="quiet">{}</span>', _("Written when sent: %(template)s") % {"template": obj.template}
        )

    @admin.display(description=_("HTML part"))
    def html_part(self, obj):
        if not obj.body_html:
            return _("This mail has no HTML part.")
        return format_html(
            '<iframe class="mail-html" src="{}" sandbox title="{}"></iframe>',
            reverse("admin:outbox_outboxmessage_html", args=[obj.pk]),
            _("HTML part of the mail"),
        )

    @admin.display(description=_("Plain-text part"))
    def text_part(self, obj):
        return format_html('<pre class="mail-text">{}</pre>', obj.body_text)

    @admin.action(description=_("Send the selected mails again"), permissions=["view"])
    def resend(self, request, queryset):
        resent = 0
        resendable = [OutboxMessage.Status.FAILED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.QUEUED]
        for message in queryset.filter(status__in=resendable):
            api.message_resend(message=message)
            resent += 1
        self.message_user(
            request,
            ngettext("%(count)d mail queued again.", "%(count)d mails queued again.", resent) % {"count": resent},
            messages.SUCCESS,
        )
