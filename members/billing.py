"""What billing needs to know about an organisation, as plain data: billing never reads members, so members
hands it a `Buyer` (and the membership's invoice lines)."""

from django.utils import translation

from billing.services import Buyer, Line
from members.models import Membership, Organisation, OrganisationRole


def organisation_customer_key(organisation: Organisation) -> str:
    return f"organisation:{organisation.pk}"


def _first_user(organisation: Organisation, role: str):
    row = (
        OrganisationRole.objects.filter(organisation=organisation, role=role, user__is_active=True)
        .select_related("user")
        .order_by("created_at", "pk")
        .first()
    )
    return row.user if row is not None else None


def organisation_language(organisation: Organisation) -> str:
    """The language invoices and mails to the organisation are written in: its billing contact's (a user with
    the billing email, or the first billing contact), else its first admin's, else Danish."""
    user = None
    if organisation.billing_email:
        user = (
            OrganisationRole.objects.filter(organisation=organisation, user__email__iexact=organisation.billing_email)
            .select_related("user")
            .first()
        )
        user = user.user if user is not None else None
    user = (
        user
        or _first_user(organisation, OrganisationRole.Role.BILLING)
        or _first_user(organisation, OrganisationRole.Role.ADMIN)
    )
    language = user.preferred_language if user is not None else "da"
    return language if language in ("da", "en") else "da"


def organisation_buyer(*, organisation: Organisation, language: str | None = None) -> Buyer:
    """The organisation as an invoice's buyer: its billing details, with the billing email or else the first
    admin's address, the reference person and PO number as the buyer's and order references."""
    admin = _first_user(organisation, OrganisationRole.Role.ADMIN)
    billing_contact = _first_user(organisation, OrganisationRole.Role.BILLING)
    email = organisation.billing_email or (admin.email if admin is not None else "")
    contact = organisation.billing_contact_name or (
        (billing_contact or admin).full_name if (billing_contact or admin) is not None else ""
    )
    return Buyer(
        name=organisation.legal_name or organisation.name,
        email=email,
        language=language or organisation_language(organisation),
        address=organisation.address,
        postcode=organisation.postcode,
        city=organisation.city,
        country=organisation.country or "DK",
        cvr=organisation.cvr or "",
        vat_number=organisation.vat_number,
        ean=organisation.ean,
        contact_name=contact[:120],
        reference=organisation.buyer_reference,
        order_reference=organisation.po_number,
        customer_key=organisation_customer_key(organisation),
    )


def membership_invoice_lines(*, membership: Membership, language: str) -> list[Line]:
    """One line: the type's name and the period, in the customer's language, at the period's fee and the type's
    VAT."""
    membership_type = membership.membership_type
    with translation.override(language):
        name = getattr(membership_type, f"name_{language}", "") or membership_type.name
        description = translation.gettext("Membership of the Danish Life Science Cluster: %(type)s") % {"type": name}
    return [
        Line(
            description=description,
            unit_price=membership.fee_dkk,
            vat_category=membership_type.vat_category,
            period_start=membership.period_start,
            period_end=membership.period_end,
        )
    ]


def membership_invoice_origin(membership: Membership) -> str:
    return f"membership:{membership.organisation_id}:{membership.period_start.isoformat()}"
