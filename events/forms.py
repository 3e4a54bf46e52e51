"""The sign-up form (guest or logged-in person, plus the event's own questions) and the staff forms."""

import copy
import datetime

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from billing.validators import validate_cvr
from events.models import Question, Registration
from events.selectors import event_questions


def _plainly_copyable(obj, own_deepcopy) -> bool:
    """True when copying `obj` the way its class's __deepcopy__ does needs no more than a copy of its __dict__."""
    kind = type(obj)
    return (
        kind.__deepcopy__ is own_deepcopy and not hasattr(kind, "__copy__") and kind.__getstate__ is object.__getstate__
    )


def _dict_copied(obj):
    copied = object.__new__(type(obj))
    copied.__dict__ = obj.__dict__.copy()
    return copied


def _field_copied(field: forms.Field, memo: dict) -> forms.Field:
    """What `Field.__deepcopy__` gives (the field, its widget and their attrs, messages and validators copied),
    without `copy`'s general machinery; the fields and widgets that copy more go through it."""
    widget = field.widget
    if not (
        _plainly_copyable(field, forms.Field.__deepcopy__) and _plainly_copyable(widget, forms.Widget.__deepcopy__)
    ):
        return copy.deepcopy(field, memo)
    copied = _dict_copied(field)
    copied.widget = _dict_copied(widget)
    copied.widget.attrs = widget.attrs.copy()
    copied.error_messages = field.error_messages.copy()
    copied.validators = field.validators[:]
    return copied


class _FieldsCopiedPlainly(dict):
    """A form's `base_fields`, which every bound form deep-copies: copied field by field by `_field_copied`. Of the
    40 µs the sign-up form took to build, `deepcopy` took 37."""

    def __deepcopy__(self, memo):
        return {name: _field_copied(field, memo) for name, field in self.items()}


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

    def __init__(self, *args, event, user, invoice_address_needed: bool = False, **kwargs):
        """`invoice_address_needed`: the seat has a price for this person and no member organisation pays it, so
        the invoice needs an address of its own (a CVR number makes it the organisation's)."""
        super().__init__(*args, **kwargs)
        self.event = event
        self.user = user
        if user.is_authenticated:
            for name in ("full_name", "email", "organisation_name", "job_title", "consent"):
                del self.fields[name]
        if invoice_address_needed:
            invoice_fields = self._invoice_fields()
            self.fields.update(invoice_fields)
            # Asked right after the person's own details, before consent and the newsletter.
            personal = ("full_name", "email", "organisation_name", "job_title")
            self.order_fields([*(name for name in personal if name in self.fields), *invoice_fields])
        self.questions = event_questions(event=event)
        for question in self.questions:
            self.fields[self.question_field_name(question)] = self._question_field(question)

    @staticmethod
    def _invoice_fields() -> dict[str, forms.Field]:
        return {
            "invoice_address": forms.CharField(
                label=_("Invoice address"),
                max_length=200,
                help_text=_("Street and number, where the invoice goes."),
                widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
            ),
            "invoice_postcode": forms.CharField(
                label=_("Postcode"), max_length=10, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
            ),
            "invoice_city": forms.CharField(
                label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
            ),
            "invoice_cvr": forms.CharField(
                label=_("CVR number"),
                max_length=8,
                required=False,
                validators=[validate_cvr],
                help_text=_("Give your company's CVR number and the invoice is made out to the organisation."),
            ),
        }

    def invoice_address(self) -> dict:
        """The invoice address as the sign-up service takes it (empty when the form asked for none)."""
        return {name: self.cleaned_data[name] for name in self.fields if name.startswith("invoice_")}

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


RegistrationForm.base_fields = _FieldsCopiedPlainly(RegistrationForm.base_fields)  # built for every sign-up


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
