"""Forms for subscribing, changing preferences, the account section and the staff import."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from newsletters.access import topics_hidden
from newsletters.consent import CONSENT_TEXT, CONSENT_TEXT_VERSION
from newsletters.models import Topic


def no_markup(value: str) -> None:
    if "<" in value or ">" in value:
        raise forms.ValidationError(_("Please write your name without the characters < and >."))


class TopicsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Topics"))
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": _("Please choose among the topics listed."),
                "invalid_pk_value": _("Please choose among the topics listed."),
                "required": _("Please choose at least one topic."),
            },
        )
        super().__init__(queryset=Topic.objects.filter(is_active=True), to_field_name="slug", **kwargs)


class TopicsForUserMixin:
    """Offers only the topics the person may have: a topic reserved for members shows to those whose membership
    includes it (and stays listed for a subscriber who already has it, so it can be taken away)."""

    def __init__(self, *args, user=None, kept=(), **kwargs):
        super().__init__(*args, **kwargs)
        hidden = topics_hidden(user=user) - set(kept)
        if hidden:
            self.fields["topics"].queryset = self.fields["topics"].queryset.exclude(slug__in=hidden)


class SubscribeForm(TopicsForUserMixin, forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    name = forms.CharField(label=_("Name (optional)"), max_length=100, required=False, validators=[no_markup])
    language = forms.ChoiceField(label=_("Language of the newsletter"), choices=settings.LANGUAGES)
    topics = TopicsField()
    consent = forms.BooleanField(
        label=CONSENT_TEXT,
        error_messages={"required": _("Please tick the box to give your consent.")},
    )
    consent_text_version = forms.CharField(widget=forms.HiddenInput, initial=CONSENT_TEXT_VERSION, max_length=40)
    # A field people never see: bots fill it in, and their posts are answered kindly and then dropped.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_consent_text_version(self):
        # The version the page showed, so the ledger records what the person read, not what we show now.
        value = self.cleaned_data["consent_text_version"]
        return value if value == CONSENT_TEXT_VERSION else CONSENT_TEXT_VERSION


class PreferencesForm(TopicsForUserMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language of the newsletter"), choices=settings.LANGUAGES)
    topics = TopicsField(
        required=False,
        help_text=_("Remove every topic to unsubscribe."),
    )


class AccountTopicsForm(TopicsForUserMixin, forms.Form):
    topics = TopicsField(required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("Columns: email, name, language, with a header row."))
    topics = TopicsField()
    consented_at = forms.DateTimeField(label=_("Consent given on"), initial=timezone.now)
    consent_text_version = forms.CharField(label=_("Consent text version"), max_length=40)
    source_note = forms.CharField(
        label=_("Where the consent was given"), max_length=255, help_text=_("For example: the 2025 paper form.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file must be UTF-8 encoded CSV.")) from exc


class CampaignScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(label=_("Send at"))

    def clean_scheduled_at(self):
        value = self.cleaned_data["scheduled_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("Choose a time in the future."))
        return value


class CampaignSendForm(forms.Form):
    """The confirmation of "Send now": it carries the recipient count the staff member saw, so that a list that
    changed in the meantime is shown again instead of sent to people nobody counted."""

    recipient_count = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, expected: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["recipient_count"].initial = expected

    def clean_recipient_count(self):
        value = self.cleaned_data["recipient_count"]
        if value != self.expected:
            raise forms.ValidationError(
                _("The number of recipients has changed since the page was shown. Check the new number and confirm.")
            )
        return value
