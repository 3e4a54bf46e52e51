"""Paid events: a confirmed seat at an event with a price is invoiced to the participant's organisation (at the
member price when they sign up as a member) or to the guest; a cancellation before the free-cancellation deadline,
or the event's cancellation, is credited in full.

Nothing here runs under the event lock: the seat services only ask for the work after their commit
(`registration_billing_later`), a worker issues and delivers the document, and a sweep (beat) catches what a
lost publish or a dead worker left undone; a document issued but not delivered is billing's own beat run's
(`invoices_undelivered_deliver`). Each document is issued once: its origin names the registration."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from billing.models import VAT_RATES, Invoice, VatCategory
from billing.services import Buyer, Line, credit_note_issue, invoice_create_issued, invoice_deliver
from events.models import Event, Registration
from members.billing import organisation_buyer
from outbox.api import publish_in_background

logger = logging.getLogger(__name__)
Status = Registration.Status


def invoice_origin(registration_pk: int) -> str:
    return f"registration:{registration_pk}"


def credit_origin(registration_pk: int) -> str:
    return f"registration:{registration_pk}:cancel"


def registration_price(registration: Registration) -> Decimal:
    """What the seat costs without VAT: the member price for a member's registration, else the event's price."""
    return seat_net(event=registration.event, is_member=registration.is_member)


def seat_net(*, event: Event, is_member: bool) -> Decimal:
    return Decimal(event.member_price_dkk if is_member else event.price_dkk)


@dataclass(frozen=True)
class SeatPrice:
    """What a person is told a seat costs before they sign up and in their confirmation."""

    net: Decimal
    gross: Decimal
    free_cancellation_until: datetime


def seat_price(*, event: Event, is_member: bool) -> SeatPrice | None:
    """The seat's price without and with VAT (the invoice line's standard rate), or None when it is free."""
    net = seat_net(event=event, is_member=is_member)
    if net <= 0:
        return None
    gross = (net * (1 + VAT_RATES[VatCategory.STANDARD] / 100)).quantize(Decimal("0.01"))
    return SeatPrice(net=net, gross=gross, free_cancellation_until=event.free_cancellation_until())


def _buyer(registration: Registration) -> Buyer:
    if registration.organisation_id is not None:
        return organisation_buyer(organisation=registration.organisation, language=registration.language)
    # With a CVR number the guest's organisation is the buyer, for the attention of the person who signed up.
    company = bool(registration.invoice_cvr)
    return Buyer(
        name=(registration.organisation_name or registration.full_name) if company else registration.full_name,
        email=registration.email,
        language=registration.language,
        address=registration.invoice_address,
        postcode=registration.invoice_postcode,
        city=registration.invoice_city,
        cvr=registration.invoice_cvr,
        contact_name=registration.full_name,
        reference=registration.full_name,
        customer_key=f"registration:{registration.pk}",
    )


def _line(registration: Registration, price: Decimal) -> Line:
    event = registration.event
    with translation.override(registration.language):
        when = formats.date_format(timezone.localtime(event.starts_at), "SHORT_DATE_FORMAT")
        description = _("%(title)s, %(date)s: participation of %(name)s") % {
            "title": event.title,
            "date": when,
            "name": registration.full_name,
        }
    return Line(description=description[:200], unit_price=price, vat_category=VatCategory.STANDARD)


def registration_invoice_issue(*, registration: Registration, by=None) -> Invoice | None:
    """Issue the invoice of a confirmed, paid registration (once). None when it owes nothing: free, not
    confirmed (waitlisted: invoiced when promoted; cancelled first: never)."""
    registration = Registration.objects.select_related("event", "organisation").get(pk=registration.pk)
    if registration.status != Status.CONFIRMED or registration.event.status == Event.Status.CANCELLED:
        return None
    price = registration_price(registration)
    if price <= 0:
        return None
    invoice, _created = invoice_create_issued(
        buyer=_buyer(registration),
        lines=[_line(registration, price)],
        origin=invoice_origin(registration.pk),
        category=Invoice.Category.EVENT,
        hub=registration.event.hub,
        by=by,
    )
    return invoice


def _credit_due(registration: Registration) -> bool:
    if registration.event.status == Event.Status.CANCELLED:
        return True
    return (
        registration.status == Status.CANCELLED
        and registration.cancelled_at is not None
        and registration.cancelled_at < registration.event.free_cancellation_until()
    )


def registration_credit_issue(*, registration: Registration, by=None) -> Invoice | None:
    """Credit the invoice of a registration cancelled before the deadline, or of a cancelled event, in full
    (once). None when nothing is owed back: no invoice, cancelled after the deadline, already credited."""
    registration = Registration.objects.select_related("event").get(pk=registration.pk)
    if not _credit_due(registration):
        return None
    invoice = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, origin=invoice_origin(registration.pk)).first()
    if invoice is None or invoice.status == Invoice.Status.CREDITED:
        return None
    with translation.override(invoice.language):
        reason = (
            _("The event was cancelled.")
            if registration.event.status == Event.Status.CANCELLED
            else _("Registration cancelled before the deadline.")
        )
    return credit_note_issue(invoice=invoice, reason=reason, by=by, origin=credit_origin(registration.pk))


def registration_billing_settle(*, registration_id: int) -> Invoice | None:
    """The worker's half: issue or credit what the registration's state calls for, then deliver it."""
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None:
        return None
    document = registration_credit_issue(registration=registration) or registration_invoice_issue(
        registration=registration
    )
    if document is not None:
        invoice_deliver(invoice=document)
    return document


def registration_billing_later(registration_ids) -> None:
    """From inside a seat service's transaction: once it commits, a worker settles each paid registration. A lost
    publish is caught by `paid_registrations_sweep`."""
    ids = list(registration_ids)
    if not ids:
        return
    from events.tasks import registration_billing_task

    def publish():
        for pk in ids:
            registration_billing_task.delay(registration_id=pk)

    transaction.on_commit(lambda: publish_in_background(publish))


def paid_registrations_sweep() -> int:
    """Beat: settle every paid registration whose document is missing: confirmed without an invoice, or cancelled
    in time (or at a cancelled event) with an invoice and no credit note. Returns how many it settled."""
    # Events that ended more than a month ago are settled: staff correct those by hand.
    recent = Registration.objects.filter(event__ends_at__gte=timezone.now() - timedelta(days=30))
    paid = recent.filter(Q(event__price_dkk__gt=0) | Q(event__member_price_dkk__gt=0))
    invoiced = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, origin__startswith="registration:")
    invoiced_origins = set(invoiced.values_list("origin", flat=True))
    credited = set(
        Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE, origin__startswith="registration:").values_list(
            "origin", flat=True
        )
    )
    settled = 0
    candidates = paid.filter(status__in=[Status.CONFIRMED, Status.CANCELLED]).select_related("event")
    for registration in candidates.order_by("pk").iterator():
        has_invoice = invoice_origin(registration.pk) in invoiced_origins
        wants_invoice = (
            registration.status == Status.CONFIRMED
            and registration.event.status != Event.Status.CANCELLED
            and registration_price(registration) > 0
        )
        wants_credit = has_invoice and _credit_due(registration) and credit_origin(registration.pk) not in credited
        if (wants_invoice and not has_invoice) or wants_credit:
            try:
                registration_billing_settle(registration_id=registration.pk)
                settled += 1
            except Exception:  # one registration's failure must not stop the others; the next sweep retries
                logger.exception("registration %s: billing failed, retried by the next sweep", registration.pk)
    return settled
