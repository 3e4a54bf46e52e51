"""The billing admin's forms: a payment, a bank statement upload, the accounting export's period, a credit reason."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Payment

STATEMENT_MAX_BYTES = 2 * 1024 * 1024


def _date_input():
    # The browser's own date picker; it sends ISO dates, which a DateField takes in every language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AmountField(forms.DecimalField):
    """An amount as staff copy it from a bank or type it: "1.000,50", "1000,50", "1,000.50" or "1000.50". With both
    separators the last one is the decimal mark; a lone comma is one too; several dots group thousands."""

    def to_python(self, value):
        text = str(value or "").strip().replace(" ", "").replace("\N{NO-BREAK SPACE}", "")
        if "," in text and "." in text:
            decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
            text = text.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
        elif "," in text:
            text = text.replace(",", ".") if text.count(",") == 1 else text.replace(",", "")
        elif text.count(".") > 1:
            text = text.replace(".", "")
        return super().to_python(text)


class PaymentForm(forms.Form):
    amount = AmountField(
        label=_("Amount (DKK)"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    paid_on = forms.DateField(label=_("Paid on"), initial=timezone.localdate, widget=_date_input())
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices, initial=Payment.Method.BANK)
    reference = forms.CharField(label=_("Reference"), max_length=120, required=False)


class StatementForm(forms.Form):
    statement = forms.FileField(label=_("Bank statement (CSV)"))

    def clean_statement(self):
        upload = self.cleaned_data["statement"]
        if upload.size > STATEMENT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB; a bank statement is much smaller."))
        return upload.read()


def previous_month(today=None) -> dict:
    """The month before this one, the period accounts are most often closed for."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return {"start": end.replace(day=1), "end": end}


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=_date_input())
    end = forms.DateField(label=_("To (included)"), widget=_date_input())
    fmt = forms.ChoiceField(label=_("Format"), choices=[("xlsx", _("Excel (XLSX)")), ("csv", "CSV")], initial="xlsx")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period must end on or after the day it starts."))
        return cleaned


class CreditForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the credit note (shown on it)"), max_length=200)
