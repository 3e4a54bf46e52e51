"""Forms for applying, the directory filters, profile editing, invitations and colleagues."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from stdnum.dk import cvr as stdnum_cvr

from billing.models import VatCategory
from billing.validators import validate_ean
from common.widgets import LongSelect, escape_text
from members.models import (
    Membership,
    MembershipApplication,
    MembershipType,
    Organisation,
    OrganisationRole,
    Segment,
)


def cvr_clean(value: str) -> str:
    return stdnum_cvr.compact(value or "")


def fee_display(fee_dkk) -> str:
    """An amount in kroner in the active language: "7.500 kr." in Danish, "DKK 7,500" in English; øre only when
    there are any."""
    amount = int(fee_dkk) if fee_dkk == int(fee_dkk) else fee_dkk
    return _("DKK %(fee)s") % {"fee": intcomma(amount)}


def fee_with_vat_display(fee_dkk, membership_type) -> str:
    if membership_type.vat_category == VatCategory.EXEMPT:
        return _("%(fee)s a year (exempt from VAT)") % {"fee": fee_display(fee_dkk)}
    return _("%(fee)s a year plus VAT") % {"fee": fee_display(fee_dkk)}


class ApplicationForm(forms.ModelForm):
    """The membership application, in fieldsets; required fields are marked (class "required" on the label)."""

    required_css_class = "required"
    FIELDSETS = [
        (_("Your organisation"), ["name", "legal_name", "cvr", "kind", "country", "website"]),
        (_("Membership type, size and yearly fee"), ["membership_type", "size_band"]),
        (_("Address and region"), ["address", "postcode", "city", "region"]),
        (_("What you work with"), ["segments"]),
        (_("Contact person"), ["contact_name", "contact_email", "contact_phone"]),
        (_("Your account"), ["password1", "password2"]),
        (_("Terms"), ["accept_terms", "nickname"]),
    ]

    country = forms.ChoiceField(label=_("Country"), initial="DK", widget=LongSelect)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, required=False, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, required=False, strip=False)
    accept_terms = forms.BooleanField(
        label=_("I accept the membership terms and that DLSC stores the data in this application."), required=True
    )
    # A field people never see (hidden by CSS): bots that fill it in are turned away.
    nickname = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = MembershipApplication
        fields = [
            "name",
            "legal_name",
            "cvr",
            "kind",
            "country",
            "membership_type",
            "size_band",
            "segments",
            "website",
            "address",
            "postcode",
            "city",
            "region",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        widgets = {"segments": forms.CheckboxSelectMultiple, "membership_type": forms.RadioSelect}
        help_texts = {
            "cvr": _("Eight digits. Required for Danish companies; optional for foreign companies and public bodies."),
        }

    def __init__(self, *args, user=None, fee_table: list[dict] | None = None, **kwargs):
        """`fee_table`: members.selectors.membership_fee_table() for this year: the offered types and their fees."""
        super().__init__(*args, **kwargs)
        self.user = user
        self.fee_table = fee_table or []
        self.types = {str(row["type"].pk): row for row in self.fee_table}
        self.fields["segments"].queryset = Segment.objects.all()
        self.fields["country"].choices = list(countries)
        self.fields["membership_type"].required = True
        self.fields["membership_type"].empty_label = None
        self.fields["membership_type"].queryset = MembershipType.objects.filter(
            pk__in=[row["type"].pk for row in self.fee_table]
        )
        self.fields["membership_type"].label_from_instance = self._type_label
        self.fields["membership_type"].widget.attrs["data-fee-type"] = "membership-fee"
        self.fields["size_band"].widget.attrs["data-fee-target"] = "membership-fee"
        self.fields["accept_terms"].label = format_html(
            _(
                'I accept the <a href="{}" target="_blank" rel="noopener">membership terms</a> and that DLSC stores '
                "the data in this application."
            ),
            reverse("members:terms"),
        )
        if user is not None and user.is_authenticated:
            del self.fields["password1"]
            del self.fields["password2"]
            self.fields["contact_email"].initial = user.email
            self.fields["contact_email"].disabled = True
            self.fields["contact_name"].initial = user.full_name
        else:
            # Required for a new applicant (marked as such); the message says what the password is for.
            for name in ("password1", "password2"):
                self.fields[name].required = True
            self.fields["password1"].error_messages["required"] = _("Choose a password for your account.")

    def clean_cvr(self):
        return cvr_clean(self.cleaned_data.get("cvr", ""))

    def fieldsets(self):
        """(legend, bound fields) in order, leaving out fields this form does not have (a signed-in applicant has
        no password fields)."""
        for legend, names in self.FIELDSETS:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                yield legend, fields

    def _type_label(self, membership_type) -> str:
        row = self.types.get(str(membership_type.pk))
        fees = sorted(fee for fee in (row["fees"].values() if row else []) if fee is not None)
        if not fees:
            return str(membership_type.name)
        if row["flat"]:
            return _("%(type)s: %(fee)s") % {
                "type": membership_type.name,
                "fee": fee_with_vat_display(fees[0], membership_type),
            }
        return _("%(type)s: from %(fee)s") % {
            "type": membership_type.name,
            "fee": fee_with_vat_display(fees[0], membership_type),
        }

    def fees_for_script(self) -> dict:
        """For static/js/membership-fee.js: per type, the kinds that may hold it and the shown fee per size band."""
        return {
            pk: {
                "kinds": row["type"].organisation_kinds or [],
                "fees": {
                    band: fee_with_vat_display(fee, row["type"]) for band, fee in row["fees"].items() if fee is not None
                },
            }
            for pk, row in self.types.items()
        }

    def chosen_fee(self) -> str:
        """The fee for the type and size band the form was sent with, shown without JavaScript after a submit."""
        if not self.is_bound:
            return ""
        row = self.types.get(str(self["membership_type"].value()))
        fee = row["fees"].get(self["size_band"].value()) if row else None
        return fee_with_vat_display(fee, row["type"]) if fee is not None else ""

    def clean_country(self):
        return (self.cleaned_data.get("country") or "DK").upper()

    def clean_nickname(self):
        if self.cleaned_data.get("nickname"):
            raise ValidationError(_("Leave this field empty."))
        return ""

    def clean(self):
        cleaned = super().clean()
        cvr = cleaned.get("cvr", "")
        if not cvr and cleaned.get("country") == "DK" and cleaned.get("kind") == Organisation.Kind.COMPANY:
            self.add_error("cvr", _("A CVR number is required for Danish companies."))
        if cvr and Organisation.objects.filter(cvr=cvr).exists():
            # Said without naming the company: whoever types a CVR number must not learn who the member is.
            self.add_error(
                "cvr",
                _(
                    "An organisation with this CVR number is already registered. Ask your company's admin on the "
                    "portal to invite you."
                ),
            )
        elif (
            cvr and MembershipApplication.objects.filter(cvr=cvr, status=MembershipApplication.Status.PENDING).exists()
        ):
            self.add_error("cvr", _("An application for this CVR number is already being processed."))
        membership_type, kind = cleaned.get("membership_type"), cleaned.get("kind")
        if membership_type is not None and kind and not membership_type.allows_kind(kind):
            self.add_error(
                "membership_type",
                _("An organisation of the kind %(kind)s cannot hold this membership type.")
                % {"kind": Organisation.Kind(kind).label},
            )
        elif membership_type is not None and cleaned.get("size_band"):
            row = self.types.get(str(membership_type.pk))
            if row is None or row["fees"].get(cleaned["size_band"]) is None:
                self.add_error("membership_type", _("No fee is set for this type and size yet. Choose another type."))
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1 and password2:
            try:
                validate_password(password1)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    hub = forms.ChoiceField(label=_("Hub"), required=False)
    size_band = forms.ChoiceField(label=_("Size"), required=False)
    tag = forms.ChoiceField(label=_("Technology or competence"), required=False)

    def __init__(self, *args, facets: dict[str, list[tuple[str, str]]], **kwargs):
        """`facets`: the segment, hub and tag options, as members.directory.directory_facets() gives them."""
        super().__init__(*args, **kwargs)
        anything = [("", _("All"))]
        self.fields["segment"].choices = anything + facets["segment"]
        self.fields["kind"].choices = anything + list(Organisation.Kind.choices)
        self.fields["hub"].choices = anything + facets["hub"]
        self.fields["size_band"].choices = anything + list(Organisation.SizeBand.choices)
        self.fields["tag"].choices = anything + facets["tag"]

    def fields_html(self) -> str:
        """The fields as members/_directory_filter_fields.html shows them when the form has no errors (every stored
        listing), written out here: through the template, the loop over the options was about a tenth of a cold
        directory page's CPU. A select marks its option for the value asked for, else "All". (Why escape_text:
        common.widgets.)"""
        parts = []
        for field in self:
            value = field.value()
            name, auto_id = escape_text(field.html_name), escape_text(field.auto_id)
            if field.name == "q":
                shown = f' value="{escape_text(value)}"' if value else ""
                control = (
                    f'<input type="text" name="{name}"{shown} maxlength="{field.field.max_length}" id="{auto_id}">'
                )
            else:
                selected = "" if value is None else value
                options = "".join(
                    f'\n  <option value="{escape_text(choice)}"{" selected" if choice == selected else ""}>'
                    f"{escape_text(label)}</option>"
                    for choice, label in field.field.choices
                )
                control = f'<select name="{name}" id="{auto_id}">{options}\n</select>'
            label = escape_text(field.label) + escape_text(self.label_suffix)
            parts.append(f'<div class="field"><label for="{auto_id}">{label}</label>\n{control}</div>\n')
        return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


class OrganisationProfileForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "website",
            "logo",
            "address",
            "postcode",
            "city",
            "region",
            "size_band",
            "segments",
            "description_da",
            "description_en",
            "offers_da",
            "offers_en",
            "offer_tags",
            "seeks_da",
            "seeks_en",
            "seek_tags",
            "listed_in_directory",
        ]
        widgets = {
            "segments": forms.CheckboxSelectMultiple,
            "offer_tags": forms.CheckboxSelectMultiple,
            "seek_tags": forms.CheckboxSelectMultiple,
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        }

    M2M_FIELDS = ("segments", "offer_tags", "seek_tags")
    # A browser never sends a chosen file twice: a logo chosen before "preview" is stored at once, and the page
    # carries a signed token for it (bound to this organisation) to the "save" that follows.
    LOGO_PENDING_SALT = "members.profile.logo-pending"
    LOGO_PENDING_SECONDS = 24 * 3600

    def clean(self):
        cleaned = super().clean()
        self.logo_pending_name = ""
        token = self.data.get("logo_pending", "")
        if token:
            try:
                pending = signing.loads(token, salt=self.LOGO_PENDING_SALT, max_age=self.LOGO_PENDING_SECONDS)
            except signing.BadSignature:
                pending = {}
            if pending.get("organisation") != self.instance.pk:
                raise ValidationError(
                    _("The logo from the preview cannot be used. Choose it again."), code="logo_pending_invalid"
                )
            self.logo_pending_name = pending["name"]
        return cleaned

    def logo_stash(self) -> str:
        """For a preview: store a newly chosen logo and show it; the token that brings it to the save."""
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):
            field = self.instance.logo
            self.logo_pending_name = field.storage.save(field.field.generate_filename(self.instance, logo.name), logo)
        elif logo is False or not self.logo_pending_name:
            return ""
        self.instance.logo.name = self.logo_pending_name
        return signing.dumps(
            {"organisation": self.instance.pk, "name": self.logo_pending_name}, salt=self.LOGO_PENDING_SALT
        )

    def split(self) -> tuple[dict, dict]:
        """Plain fields and many-to-many fields, for the service."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.M2M_FIELDS}
        if data.get("logo") is False:  # "clear" was ticked
            data["logo"] = ""
        elif not isinstance(data.get("logo"), UploadedFile) and self.logo_pending_name:
            data["logo"] = self.logo_pending_name
        return data, {k: self.cleaned_data[k] for k in self.M2M_FIELDS}


class BillingDetailsForm(forms.ModelForm):
    """What the company admin keeps for invoices: every field checked here, saved by
    members.services.organisation_billing_update() in one transaction."""

    class Meta:
        model = Organisation
        fields = ["cvr", "billing_contact_name", "billing_email", "ean", "po_number", "buyer_reference", "vat_number"]
        help_texts = {"cvr": _("Eight digits with a correct check digit.")}

    def clean_cvr(self):
        return cvr_clean(self.cleaned_data.get("cvr") or "") or None

    def clean_ean(self):
        ean = "".join((self.cleaned_data.get("ean") or "").split())
        if ean:
            validate_ean(ean)
        return ean

    def clean_vat_number(self):
        return "".join((self.cleaned_data.get("vat_number") or "").split()).upper()


class NextPeriodForm(forms.Form):
    """The company admin's choice of type and size for the period after the current one."""

    membership_type = forms.ModelChoiceField(
        label=_("Membership type"), queryset=MembershipType.objects.none(), empty_label=None
    )
    size_band = forms.ChoiceField(label=_("Size"), choices=Organisation.SizeBand.choices)

    def __init__(self, *args, organisation: Organisation, membership: Membership, **kwargs):
        from members.services import membership_next_terms

        super().__init__(*args, **kwargs)
        allowed = [t.pk for t in MembershipType.objects.filter(is_active=True) if t.allows_kind(organisation.kind)]
        self.fields["membership_type"].queryset = MembershipType.objects.filter(pk__in=allowed)
        next_type, next_band = membership_next_terms(membership)
        self.fields["membership_type"].initial = next_type.pk
        self.fields["size_band"].initial = next_band


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=OrganisationRole.Role.choices, initial="member")


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(choices=OrganisationRole.Role.choices)
    grant = forms.BooleanField(required=False)


class InvitationSignupForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            try:
                validate_password(password1)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
