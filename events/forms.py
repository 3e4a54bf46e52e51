"""The sign-up form (guest or logged-in person, plus the event's own questions) and the staff forms."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from events.models import Question, Registration


class RegistrationForm(forms.Form):
    """Guests give name, email, organisation and role; a logged-in person's details come from their account, so
    for them the form holds only the event's questions and the newsletter choice."""

    full_name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Email"), max_length=254)
    organisation_name = forms.CharField(label=_("Organisation"), max_length=200)
    job_title = forms.CharField(label=_("Role"), max_length=120, required=False)
    consent = forms.BooleanField(label=_("I agree that my details are stored and used for this event."))
    newsletter_opt_in = forms.BooleanField(
        label=_("Send me the cluster's newsletter (you confirm by email first)."), required=False
    )
    # A field people never see; software that fills in every field gives itself away.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    def __init__(self, *args, event, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.user = user
        if user.is_authenticated:
            for name in ("full_name", "email", "organisation_name", "job_title", "consent"):
                del self.fields[name]
        self.questions = list(event.questions.prefetch_related("options"))
        for question in self.questions:
            self.fields[self.question_field_name(question)] = self._question_field(question)

    @staticmethod
    def question_field_name(question: Question) -> str:
        return f"question_{question.pk}"

    @staticmethod
    def _question_field(question: Question) -> forms.Field:
        common = {"label": question.label, "help_text": question.help_text, "required": question.required}
        if question.kind == Question.Kind.TEXT:
            return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
        if question.kind == Question.Kind.YES_NO:
            return forms.TypedChoiceField(
                choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))],
                coerce=lambda value: value == "yes",
                empty_value=None,
                **common,
            )
        choices = [(option.pk, option.label) for option in question.options.all()]
        if question.kind == Question.Kind.SINGLE_CHOICE:
            return forms.TypedChoiceField(
                choices=choices, coerce=int, empty_value=None, widget=forms.RadioSelect, **common
            )
        return forms.TypedMultipleChoiceField(
            choices=choices, coerce=int, widget=forms.CheckboxSelectMultiple, **common
        )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Leave this field empty."))
        return ""

    def answers(self) -> dict:
        return {question.pk: self.cleaned_data.get(self.question_field_name(question)) for question in self.questions}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class CancelEventForm(forms.Form):
    reason = forms.CharField(
        label=_("Message to the registrants"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class ParticipantsEmailForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=150)
    message = forms.CharField(label=_("Message"), max_length=10000, widget=forms.Textarea(attrs={"rows": 10}))
    statuses = forms.MultipleChoiceField(
        label=_("Send to"),
        choices=[(Registration.Status.CONFIRMED, _("Confirmed")), (Registration.Status.WAITLISTED, _("Waitlisted"))],
        initial=[Registration.Status.CONFIRMED],
        widget=forms.CheckboxSelectMultiple,
    )


class EventFilterForm(forms.Form):
    hub = forms.ChoiceField(label=_("Hub"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.Select,
    )

    def __init__(self, *args, hubs, kinds, upcoming=True, **kwargs):
        super().__init__(*args, **kwargs)
        # A named list of months: Chromium draws an empty <input type="month"> as "--------- ----".
        self.fields["month"].widget.choices = [
            ("", _("All months")),
            *[(month.strftime("%Y-%m"), date_format(month, "YEAR_MONTH_FORMAT")) for month in _months(upcoming)],
        ]
        self.fields["hub"].choices = [("", _("All hubs")), *[(hub.slug, hub.name) for hub in hubs]]
        self.fields["kind"].choices = [("", _("All kinds")), *kinds]


def _months(upcoming: bool, count: int = 12) -> list[datetime.date]:
    """This month and the eleven after it (upcoming events) or before it (past events)."""
    today = timezone.localdate()
    step = 1 if upcoming else -1
    index = today.year * 12 + today.month - 1
    return [datetime.date((index + step * n) // 12, (index + step * n) % 12 + 1, 1) for n in range(count)]
