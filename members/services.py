"""Writes on organisations, applications, memberships, roles and invitations. Each takes the acting user and
leaves an audit row for what staff or members must be able to trace."""

import logging
import secrets
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.text import slugify

from accounts.audit import audit_record
from accounts.models import User
from accounts.services import user_create
from billing.models import Invoice
from billing.services import BillingError, invoice_create_issued, invoice_deliver
from common.errors import DomainError
from common.locks import LockBusy, lock_one, locked
from members.billing import membership_invoice_lines, membership_invoice_origin, organisation_buyer
from members.models import (
    InvalidTransition,
    Invitation,
    Membership,
    MembershipApplication,
    MembershipType,
    Organisation,
    OrganisationRole,
)
from members.selectors import membership_fee
from outbox.api import mail_enqueue, publish_in_background

Role = OrganisationRole.Role
logger = logging.getLogger(__name__)
INVITATION_SALT = "members.invitation"
INVITATION_MAX_AGE = timedelta(days=14)
RENEWAL_REMINDER_DAYS = (30, 7)
DEFAULT_TYPE_SLUG = "company"


class MembersError(DomainError):
    """A rule of the membership domain was broken; the message is shown to the user."""


class InvitationInvalid(MembersError):
    pass


def hub_for_region(region):
    return region.hubs.order_by("ordering", "pk").first() if region is not None else None


# Paths under /members/ that an organisation's slug must not shadow.
RESERVED_SLUGS = {"partners", "apply", "manage", "invitation", "terms"}


DANISH_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def slug_unique(*, name: str, exclude_pk=None) -> str:
    base = slugify(name.translate(DANISH_LETTERS))[:100] or "organisation"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Organisation.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def organisation_search_refresh(*, organisation_ids) -> None:
    """Recompute the stored Danish search vector (name weighs most, then description, then offers and seeks)."""
    if not settings.IS_POSTGRES:
        return
    vector = (
        SearchVector("name", "legal_name", weight="A", config="danish")
        + SearchVector("description_da", "description_en", weight="B", config="danish")
        + SearchVector("offers_da", "offers_en", "seeks_da", "seeks_en", weight="C", config="danish")
    )
    Organisation.objects.filter(pk__in=list(organisation_ids)).update(search_vector=vector)


def fee_for(*, membership_type: MembershipType, size_band: str, year: int) -> Decimal:
    """The fee a period starting in `year` costs; MembersError when staff have set none."""
    fee = membership_fee(membership_type=membership_type, size_band=size_band, year=year)
    if fee is None:
        raise MembersError(
            translation.gettext("No fee is set for %(type)s in %(year)s. Ask the cluster's staff.")
            % {"type": membership_type.name, "year": year}
        )
    return fee


def one_year_from(start: date) -> date:
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


# --- Applications ---------------------------------------------------------------------------------


def application_submit(*, data: dict, segments, password: str | None, user=None, request=None):
    """A public application: a pending row, and the contact's account when they have none (its email is then
    verified through allauth). The same answer whether or not the email is known."""
    from allauth.account.models import EmailAddress

    email = data["contact_email"].strip().lower()
    with transaction.atomic():
        if user is None or not user.is_authenticated:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = user_create(
                    email=email,
                    password=password,
                    full_name=data["contact_name"],
                    preferred_language=data.get("language", "da"),
                )
                # allauth's confirmation mail goes through the outbox adapter, in this same transaction.
                EmailAddress.objects.get(user=user, email=user.email).send_confirmation(request, signup=True)
        application = MembershipApplication.objects.create(
            **{**data, "contact_email": email}, applicant=user, terms_accepted_at=timezone.now()
        )
        application.segments.set(segments)
        mail_enqueue(
            template="members/email/application_received",
            to=email,
            language=application.language,
            context={"application": application},
        )
        audit_record(actor=user, action="members.application.submit", target=application)
    return application


def application_membership_terms(*, application: MembershipApplication, on: date | None = None) -> dict:
    """What approving creates: the hub (from the region), the first period and its fee. The approval page shows
    these, and application_approve() uses them."""
    start = on or timezone.localdate()
    membership_type = application.membership_type or MembershipType.objects.get(slug=DEFAULT_TYPE_SLUG)
    return {
        "hub": hub_for_region(application.region),
        "membership_type": membership_type,
        "period_start": start,
        "period_end": one_year_from(start),
        "fee_dkk": fee_for(membership_type=membership_type, size_band=application.size_band, year=start.year),
    }


def application_approve(*, application: MembershipApplication, approved_by) -> Organisation:
    with transaction.atomic():
        application = lock_one(application)
        application.approve(by=approved_by)
        if application.cvr and Organisation.objects.filter(cvr=application.cvr).exists():
            raise MembersError(translation.gettext("An organisation with this CVR number already exists."))
        terms = application_membership_terms(application=application)
        organisation = Organisation.objects.create(
            slug=slug_unique(name=application.name),
            legal_name=application.legal_name,
            name=application.name,
            cvr=application.cvr or None,
            kind=application.kind,
            size_band=application.size_band,
            website=application.website,
            address=application.address,
            postcode=application.postcode,
            city=application.city,
            country=application.country,
            region=application.region,
            hub=terms["hub"],
        )
        organisation.segments.set(application.segments.all())
        membership = Membership.objects.create(
            organisation=organisation,
            membership_type=terms["membership_type"],
            size_band=application.size_band,
            status=Membership.Status.ACTIVE,
            period_start=terms["period_start"],
            period_end=terms["period_end"],
            fee_dkk=terms["fee_dkk"],
        )
        if application.applicant is not None:
            for role in (Role.ADMIN, Role.BILLING):
                OrganisationRole.objects.create(organisation=organisation, user=application.applicant, role=role)
        application.organisation = organisation
        application.save()
        organisation_search_refresh(organisation_ids=[organisation.pk])
        invoice = _membership_invoice_issue(membership=membership, by=approved_by, language=application.language)
        mail_enqueue(
            template="members/email/welcome",
            to=application.contact_email,
            language=application.language,
            context={
                "organisation": organisation,
                "membership": membership,
                "application": application,
                "invoice": invoice,
            },
        )
        audit_record(
            actor=approved_by,
            action="members.application.approve",
            target=application,
            data={"organisation_id": organisation.pk, "membership_id": membership.pk},
        )
    _membership_invoice_deliver_later(invoice)
    return organisation


def application_reject(*, application: MembershipApplication, rejected_by, reason: str) -> MembershipApplication:
    with transaction.atomic():
        application = lock_one(application)
        application.reject(by=rejected_by, reason=reason)
        application.save()
        mail_enqueue(
            template="members/email/application_rejected",
            to=application.contact_email,
            language=application.language,
            context={"application": application},
        )
        audit_record(
            actor=rejected_by, action="members.application.reject", target=application, data={"reason": reason}
        )
    return application


# --- Organisations --------------------------------------------------------------------------------


def _hub_follow_region(organisation: Organisation, *, region_before, hub_chosen: bool) -> None:
    """The hub follows the region: when the region changed, or no hub is set, unless a hub was chosen with it."""
    if hub_chosen and organisation.hub_id is not None:
        return
    if organisation.region_id != region_before or organisation.hub_id is None:
        organisation.hub = hub_for_region(organisation.region)


def organisation_create(*, organisation: Organisation, by, m2m: dict | None = None) -> Organisation:
    """Staff add an organisation (the admin's form built the unsaved row); its hub follows its region unless
    one was chosen."""
    with transaction.atomic():
        _hub_follow_region(organisation, region_before=None, hub_chosen=organisation.hub_id is not None)
        organisation.full_clean()
        organisation.save()
        for field, values in (m2m or {}).items():
            getattr(organisation, field).set(values)
        organisation_search_refresh(organisation_ids=[organisation.pk])
        audit_record(
            actor=by, action="members.organisation.create", target=organisation, data={"hub_id": organisation.hub_id}
        )
    return organisation


def organisation_profile_update(*, organisation: Organisation, data: dict, m2m: dict, by) -> Organisation:
    """A member admin (or staff) saves the profile; the hub follows the region unless staff set it."""
    with transaction.atomic():
        organisation = lock_one(organisation)
        region_before = organisation.region_id
        for field, value in data.items():
            setattr(organisation, field, value)
        _hub_follow_region(organisation, region_before=region_before, hub_chosen="hub" in data)
        organisation.full_clean(exclude=["slug"])
        organisation.save()
        for field, values in m2m.items():
            getattr(organisation, field).set(values)
        organisation_search_refresh(organisation_ids=[organisation.pk])
        audit_record(
            actor=by, action="members.organisation.update", target=organisation, data={"fields": sorted([*data, *m2m])}
        )
    return organisation


BILLING_FIELDS = ("cvr", "billing_contact_name", "billing_email", "ean", "po_number", "buyer_reference", "vat_number")


def organisation_billing_update(*, organisation: Organisation, data: dict, by) -> Organisation:
    """The company admin saves the billing details; all or nothing (the model's validators check CVR and EAN
    again). Invoices already issued keep the details they were issued with."""
    refused = sorted(set(data) - set(BILLING_FIELDS))
    if refused:
        raise MembersError(
            translation.gettext("These fields are not billing details: %(fields)s.") % {"fields": ", ".join(refused)}
        )
    with transaction.atomic():
        organisation = lock_one(organisation)
        changed = sorted(field for field, value in data.items() if getattr(organisation, field) != value)
        for field, value in data.items():
            setattr(organisation, field, value)
        organisation.full_clean(exclude=["slug"])
        organisation.save(update_fields=[*data, "updated_at"])
        audit_record(
            actor=by, action="members.organisation.billing_update", target=organisation, data={"fields": changed}
        )
    return organisation


def organisation_delete(*, organisation: Organisation, by) -> None:
    """Staff delete an organisation; the audit row keeps its name and id."""
    with transaction.atomic():
        audit_record(actor=by, action="members.organisation.delete", target=organisation)
        organisation.delete()


def export_record(*, by, what: str, rows: int) -> None:
    """Staff took personal data out of the system (an organisation or contact list): who, what and how much."""
    audit_record(actor=by, action=f"members.export.{what}", data={"rows": rows})


# --- Memberships ----------------------------------------------------------------------------------


def _membership_locked(membership: Membership) -> Membership:
    """Every membership change goes through here."""
    return lock_one(membership)


MEMBERSHIP_EDITABLE_FIELDS = (
    "organisation",
    "membership_type",
    "size_band",
    "period_start",
    "period_end",
    "fee_dkk",
    "note",
    "next_type",
    "next_size_band",
)


def membership_create(*, membership: Membership, by) -> Membership:
    """Staff book a membership by hand (the admin's form built the unsaved row)."""
    with transaction.atomic():
        membership.full_clean()
        membership.save()
        audit_record(
            actor=by,
            action="members.membership.create",
            target=membership,
            data={"period_start": str(membership.period_start), "period_end": str(membership.period_end)},
        )
    return membership


def membership_update(*, membership: Membership, changes: dict, by) -> Membership:
    """Staff correct a membership's period, fee or invoice reference, under the membership's lock, so that a
    renewal, payment or expiry running at the same time sees either the old row or the new one. Status and
    payment move only through their own services."""
    refused = sorted(set(changes) - set(MEMBERSHIP_EDITABLE_FIELDS))
    if refused:
        raise MembersError(
            translation.gettext("These fields change only through the membership actions: %(fields)s.")
            % {"fields": ", ".join(refused)}
        )
    with transaction.atomic():
        membership = _membership_locked(membership)
        for field, value in changes.items():
            setattr(membership, field, value)
        membership.full_clean()
        membership.save(update_fields=list(changes))
        audit_record(actor=by, action="members.membership.update", target=membership, data={"fields": sorted(changes)})
    return membership


def membership_delete(*, membership: Membership, by) -> None:
    with transaction.atomic():
        membership = _membership_locked(membership)
        audit_record(actor=by, action="members.membership.delete", target=membership)
        membership.delete()


def _membership_invoice_issue(*, membership: Membership, by, language: str | None = None, on=None) -> Invoice | None:
    """Issue the period's invoice (once: the origin names the organisation and the period) and link it; in the
    caller's transaction. A period with no fee gets no invoice."""
    if membership.fee_dkk <= 0:
        return None
    buyer = organisation_buyer(organisation=membership.organisation, language=language)
    try:
        invoice, _created = invoice_create_issued(
            buyer=buyer,
            lines=membership_invoice_lines(membership=membership, language=buyer.language),
            origin=membership_invoice_origin(membership),
            category=Invoice.Category.MEMBERSHIP,
            hub=membership.organisation.hub,
            by=by,
            on=on,
        )
    except BillingError as error:
        raise MembersError(str(error)) from None
    membership.invoice = invoice
    membership.save(update_fields=["invoice"])
    return invoice


def membership_invoice_issue(*, membership: Membership, by, on: date | None = None) -> Invoice | None:
    """Staff (or the demo) issue a period's invoice that was not issued with it; the same invoice again if it was.
    Delivered by a worker after the commit."""
    with transaction.atomic():
        membership = _membership_locked(membership)
        invoice = membership.invoice or _membership_invoice_issue(membership=membership, by=by, on=on)
    _membership_invoice_deliver_later(invoice)
    return invoice


def _membership_invoice_deliver(invoice: Invoice | None) -> None:
    """The PDF and the mail, after the commit and outside any lock. A failure here leaves the invoice issued and
    undelivered: memberships_renew_due() delivers it on its next run."""
    if invoice is None:
        return
    try:
        invoice_deliver(invoice=invoice)
    except Exception:  # the issued invoice stands; the next run retries the delivery
        logger.exception("membership invoice %s: delivery failed, retried by the next renewal run", invoice.pk)


def _membership_invoice_deliver_later(invoice: Invoice | None) -> None:
    """For a web request (an approval, a staff renewal): the PDF is rendered by a worker, published once the
    transaction commits and without waiting on the broker; a lost publish is caught by the next renewal run."""
    if invoice is None:
        return
    from members.tasks import membership_invoice_deliver_task

    transaction.on_commit(
        lambda: publish_in_background(lambda: membership_invoice_deliver_task.delay(invoice_id=invoice.pk))
    )


def membership_invoice_deliver(*, invoice_id: int) -> bool:
    """Deliver a membership invoice (the worker's half of _membership_invoice_deliver_later)."""
    invoice = Invoice.objects.filter(pk=invoice_id).exclude(status=Invoice.Status.DRAFT).first()
    if invoice is None:
        return False
    return invoice_deliver(invoice=invoice)


def membership_next_terms(membership: Membership) -> tuple[MembershipType, str]:
    """The type and size band the period after this one will have: the company admin's choice, else as now."""
    return (
        membership.next_type or membership.membership_type,
        membership.next_size_band or membership.size_band or membership.organisation.size_band,
    )


def _membership_renew_locked(*, membership: Membership, by, on: date) -> tuple[Membership, Invoice | None]:
    membership = _membership_locked(membership)
    if membership.status not in (Membership.Status.ACTIVE, Membership.Status.EXPIRED):
        raise InvalidTransition(f"cannot renew a {membership.status} membership")
    start = membership.period_end + timedelta(days=1)
    if Membership.objects.filter(organisation=membership.organisation_id, period_start__gte=start).exists():
        raise MembersError(translation.gettext("This membership has already been renewed."))
    membership_type, size_band = membership_next_terms(membership)
    renewal = Membership.objects.create(
        organisation=membership.organisation,
        membership_type=membership_type,
        size_band=size_band,
        status=Membership.Status.ACTIVE,
        period_start=start,
        period_end=one_year_from(start),
        fee_dkk=fee_for(membership_type=membership_type, size_band=size_band, year=start.year),
    )
    invoice = _membership_invoice_issue(membership=renewal, by=by, on=on)
    audit_record(
        actor=by,
        action="members.membership.renew",
        target=renewal,
        data={"previous_id": membership.pk, "invoice": invoice.number if invoice else None},
    )
    return renewal, invoice


def membership_renew(*, membership: Membership, by, on: date | None = None) -> Membership:
    """The next period, from the day after this one ends, with the type and size chosen for it and its invoice
    issued and mailed; it expires if left unpaid."""
    with transaction.atomic():
        renewal, invoice = _membership_renew_locked(membership=membership, by=by, on=on or timezone.localdate())
    _membership_invoice_deliver_later(invoice)
    return renewal


def memberships_renewal_due(*, today: date) -> list[int]:
    """Ids of the memberships whose next period's invoice is due: the type renews automatically, the invoice
    date (the type's days before the period ends) has come, not cancelled, and no next period booked yet."""
    successor = Membership.objects.filter(
        organisation=OuterRef("organisation"), period_start__gt=OuterRef("period_end")
    )
    due = []
    for membership_type in MembershipType.objects.filter(renews_automatically=True):
        due += (
            Membership.objects.filter(
                membership_type=membership_type,
                status=Membership.Status.ACTIVE,
                cancelled_at__isnull=True,
                period_end__gte=today,
                period_end__lte=today + timedelta(days=membership_type.invoice_days_before),
            )
            .exclude(Exists(successor))
            .values_list("pk", flat=True)
        )
    return sorted(due)


def memberships_renew_due(*, today: date | None = None) -> int:
    """The daily renewal run: each due membership gets its next period and invoice in a transaction of its own
    (under the membership's lock, so two runs at once renew it once), then the invoice is delivered outside it.
    Membership invoices issued earlier and not delivered (a failed PDF or mail) are delivered again."""
    today = today or timezone.localdate()
    renewed = 0
    for pk in memberships_renewal_due(today=today):
        try:
            with transaction.atomic():
                _renewal, invoice = _membership_renew_locked(
                    membership=Membership.objects.get(pk=pk), by=None, on=today
                )
        except (MembersError, InvalidTransition, LockBusy, Membership.DoesNotExist) as error:
            logger.info("membership %s not renewed: %s", pk, error)
            continue
        renewed += 1
        _membership_invoice_deliver(invoice)
    undelivered = Invoice.objects.filter(
        pk__in=Membership.objects.filter(invoice__isnull=False).values("invoice"), pdf=""
    ).exclude(status=Invoice.Status.DRAFT)
    for invoice in undelivered:
        _membership_invoice_deliver(invoice)
    return renewed


def membership_next_period_set(*, membership: Membership, membership_type: MembershipType, size_band: str, by):
    """The company admin chooses the type and size band for the next period. Only before that period's invoice is
    issued, and only a type their organisation's kind may hold."""
    with transaction.atomic():
        membership = _membership_locked(membership)
        if membership.status != Membership.Status.ACTIVE or membership.cancelled_at is not None:
            raise MembersError(translation.gettext("Only a running membership that is not cancelled can be changed."))
        if Membership.objects.filter(
            organisation=membership.organisation_id, period_start__gt=membership.period_end
        ).exists():
            raise MembersError(
                translation.gettext("The next period has already been invoiced; write to us to change it.")
            )
        if not membership_type.is_active or not membership_type.allows_kind(membership.organisation.kind):
            raise MembersError(translation.gettext("Your organisation cannot hold this membership type."))
        if size_band not in Organisation.SizeBand.values:
            raise MembersError(translation.gettext("Choose a size."))
        start = membership.period_end + timedelta(days=1)
        fee_for(membership_type=membership_type, size_band=size_band, year=start.year)
        membership.next_type = membership_type
        membership.next_size_band = size_band
        membership.save(update_fields=["next_type", "next_size_band"])
        audit_record(
            actor=by,
            action="members.membership.next_period",
            target=membership,
            data={"type": membership_type.slug, "size_band": size_band},
        )
    return membership


def membership_cancel_at_period_end(*, membership: Membership, by, today: date | None = None) -> Membership:
    """The company admin cancels: the membership runs to the end of its period and is not renewed. Refused once
    the notice the type's terms set has passed, or when the next period is already invoiced."""
    today = today or timezone.localdate()
    with transaction.atomic():
        membership = _membership_locked(membership)
        if membership.cancelled_at is not None:
            raise MembersError(translation.gettext("The membership is already cancelled to the end of the period."))
        if membership.status != Membership.Status.ACTIVE:
            raise MembersError(translation.gettext("Only a running membership can be cancelled."))
        deadline = membership.cancellation_deadline()
        if (
            today > deadline
            or Membership.objects.filter(
                organisation=membership.organisation_id, period_start__gt=membership.period_end
            ).exists()
        ):
            raise MembersError(
                translation.gettext(
                    "The notice has passed: a cancellation to %(end)s had to reach us by %(deadline)s. "
                    "You can cancel to the end of the next period."
                )
                % {
                    "end": formats.date_format(membership.period_end, "SHORT_DATE_FORMAT"),
                    "deadline": formats.date_format(deadline, "SHORT_DATE_FORMAT"),
                }
            )
        membership.cancel_at_period_end(by=by, now=timezone.now())
        membership.save(update_fields=["cancelled_at", "cancelled_by"])
        audit_record(
            actor=by,
            action="members.membership.cancel_at_period_end",
            target=membership,
            data={"period_end": str(membership.period_end)},
        )
    return membership


def memberships_paid_sync() -> int:
    """Billing cannot call members: a membership whose invoice billing marked paid is marked paid here (hourly),
    on the day the invoice was paid."""
    synced = 0
    unpaid = Membership.objects.filter(
        paid_on__isnull=True,
        status__in=[Membership.Status.ACTIVE, Membership.Status.PENDING],
        invoice__status=Invoice.Status.PAID,
    )
    for pk in unpaid.values_list("pk", flat=True):
        with transaction.atomic():
            membership = lock_one(Membership.objects.select_related("invoice"), pk=pk)
            if membership is None or membership.paid_on is not None or membership.invoice.status != "paid":
                continue
            paid_at = membership.invoice.paid_at
            membership.mark_paid(on=timezone.localdate(paid_at) if paid_at else timezone.localdate())
            membership.save(update_fields=["paid_on", "status"])
            audit_record(
                actor=None,
                action="members.membership.paid",
                target=membership,
                data={"paid_on": str(membership.paid_on), "invoice": membership.invoice.number},
            )
            synced += 1
    return synced


def membership_mark_paid(*, membership: Membership, by, paid_on: date | None = None) -> Membership:
    with transaction.atomic():
        membership = _membership_locked(membership)
        membership.mark_paid(on=paid_on or timezone.localdate())
        membership.save(update_fields=["paid_on", "status"])
        audit_record(
            actor=by, action="members.membership.paid", target=membership, data={"paid_on": str(membership.paid_on)}
        )
    return membership


def membership_cancel(*, membership: Membership, by) -> Membership:
    with transaction.atomic():
        membership = _membership_locked(membership)
        membership.cancel()
        membership.save(update_fields=["status"])
        audit_record(actor=by, action="members.membership.cancel", target=membership)
    return membership


def memberships_expire(*, today: date | None = None) -> int:
    """Periods that are over expire; so does a membership left unpaid past the grace period."""
    today = today or timezone.localdate()
    grace = timedelta(days=settings.MEMBERSHIP_GRACE_DAYS)
    due = Membership.objects.filter(status=Membership.Status.ACTIVE).filter(
        Q(period_end__lt=today) | Q(paid_on__isnull=True, period_start__lt=today - grace)
    )
    expired = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            membership = lock_one(Membership.objects.all(), pk=pk)
            if membership is None or membership.status != Membership.Status.ACTIVE:
                continue
            membership.expire()
            membership.save(update_fields=["status"])
            audit_record(
                actor=None,
                action="members.membership.expire",
                target=membership,
                data={"unpaid": membership.paid_on is None},
            )
            expired += 1
    return expired


def membership_contacts(*, organisation: Organisation) -> list[User]:
    """Billing contacts, or the admins when nobody is named for billing."""
    roles = OrganisationRole.objects.filter(organisation=organisation).select_related("user")
    billing = [r.user for r in roles if r.role == Role.BILLING and r.user.is_active]
    return billing or [r.user for r in roles if r.role == Role.ADMIN and r.user.is_active]


def membership_renewal_reminders_send(*, today: date | None = None) -> int:
    """30 and 7 days before a period ends, once each (the outbox's dedupe key keeps it so if beat runs late or
    twice). The mail says what happens: the next period's invoice was sent (number, date, due date), or will be
    sent on its date, or the membership ends (cancelled, or a type that does not renew). Nothing once the next
    period is paid."""
    today = today or timezone.localdate()
    sent = 0
    thresholds = sorted(RENEWAL_REMINDER_DAYS)
    for index, days in enumerate(thresholds):
        lower = thresholds[index - 1] if index else -1
        due = (
            Membership.objects.filter(
                status=Membership.Status.ACTIVE,
                period_end__lte=today + timedelta(days=days),
                period_end__gt=today + timedelta(days=lower),
            )
            .select_related("organisation", "membership_type")
            .order_by("pk")
        )
        for membership in due:
            following = (
                Membership.objects.filter(
                    organisation=membership.organisation_id, period_start__gt=membership.period_end
                )
                .select_related("invoice")
                .order_by("period_start")
                .first()
            )
            if following is not None and following.paid_on is not None:
                continue
            renews = membership.membership_type.renews_automatically and membership.cancelled_at is None
            context = {
                "membership": membership,
                "organisation": membership.organisation,
                "days": days,
                "renews": renews or following is not None,
                "invoice": following.invoice if following is not None else None,
                "invoice_date": membership.period_end - timedelta(days=membership.membership_type.invoice_days_before),
                "cancelled": membership.cancelled_at is not None,
            }
            for contact in membership_contacts(organisation=membership.organisation):
                with transaction.atomic():
                    message = mail_enqueue(
                        template="members/email/renewal_reminder",
                        to=contact.email,
                        language=contact.preferred_language,
                        context=context,
                        dedupe_key=f"membership-renewal:{membership.pk}:{days}:{contact.pk}",
                    )
                sent += message is not None
    return sent


# --- Roles ----------------------------------------------------------------------------------------


def _admin_count(organisation: Organisation) -> int:
    return OrganisationRole.objects.filter(organisation=organisation, role=Role.ADMIN).count()


def role_save(*, role: OrganisationRole, by) -> OrganisationRole:
    """Staff give someone a role in an organisation, or change a role row, from the back office."""
    created = role.pk is None
    with transaction.atomic():
        role.full_clean()
        role.save()
        audit_record(
            actor=by,
            action="members.role.grant" if created else "members.role.update",
            target=role.organisation,
            data={"user_id": role.user_id, "role": role.role},
        )
    return role


def role_delete(*, role: OrganisationRole, by) -> None:
    """Staff remove a role row from the back office (the member pages' rules on the last admin do not bind staff,
    who may have to clean up an organisation nobody runs any more)."""
    with transaction.atomic():
        audit_record(
            actor=by,
            action="members.role.revoke",
            target=role.organisation,
            data={"user_id": role.user_id, "role": role.role},
        )
        role.delete()


def role_grant(*, organisation: Organisation, user, role: str, by) -> OrganisationRole:
    with transaction.atomic():
        row, created = OrganisationRole.objects.get_or_create(organisation=organisation, user=user, role=role)
        if created:
            audit_record(
                actor=by, action="members.role.grant", target=organisation, data={"user_id": user.pk, "role": role}
            )
    return row


def role_revoke(*, organisation: Organisation, user, role: str, by) -> None:
    with transaction.atomic():
        lock_one(organisation)
        rows = OrganisationRole.objects.filter(organisation=organisation, user=user, role=role)
        if role == Role.ADMIN and rows.exists() and _admin_count(organisation) == 1:
            raise MembersError(translation.gettext("An organisation needs at least one admin. Hand the role on first."))
        if (
            rows.exists()
            and not OrganisationRole.objects.filter(organisation=organisation, user=user).exclude(role=role).exists()
        ):
            raise MembersError(translation.gettext("Remove the colleague instead of their last role."))
        if rows.delete()[0]:
            audit_record(
                actor=by, action="members.role.revoke", target=organisation, data={"user_id": user.pk, "role": role}
            )


def colleague_remove(*, organisation: Organisation, user, by) -> None:
    with transaction.atomic():
        lock_one(organisation)
        rows = OrganisationRole.objects.filter(organisation=organisation, user=user)
        is_admin = rows.filter(role=Role.ADMIN).exists()
        if is_admin and _admin_count(organisation) == 1:
            raise MembersError(translation.gettext("An organisation needs at least one admin. Hand the role on first."))
        if rows.delete()[0]:
            audit_record(actor=by, action="members.role.remove", target=organisation, data={"user_id": user.pk})


def admin_hand_on(*, organisation: Organisation, from_user, to_user, by) -> None:
    """Give the admin role to a colleague and give it up."""
    with transaction.atomic():
        lock_one(organisation)
        if not OrganisationRole.objects.filter(organisation=organisation, user=to_user).exists():
            raise MembersError(translation.gettext("Only a colleague in the organisation can become its admin."))
        OrganisationRole.objects.get_or_create(organisation=organisation, user=to_user, role=Role.ADMIN)
        OrganisationRole.objects.filter(organisation=organisation, user=from_user, role=Role.ADMIN).delete()
        OrganisationRole.objects.get_or_create(organisation=organisation, user=from_user, role=Role.MEMBER)
        audit_record(
            actor=by,
            action="members.role.hand_on",
            target=organisation,
            data={"from_user_id": from_user.pk, "to_user_id": to_user.pk},
        )


# --- Invitations ----------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation: Invitation, *, language: str) -> str:
    with translation.override(language):
        path = reverse("members:invitation", kwargs={"token": invitation_token(invitation)})
    return settings.SITE_URL + path


def invitation_create(*, organisation: Organisation, email: str, role: str, invited_by) -> Invitation:
    email = email.strip().lower()
    if OrganisationRole.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise MembersError(translation.gettext("This person is already a colleague in the organisation."))
    with transaction.atomic():
        # A new invitation replaces an open one to the same address, so the newest link is the one that works.
        for old in locked(
            Invitation.objects.filter(organisation=organisation, email__iexact=email, status=Invitation.Status.PENDING)
        ):
            old.revoke()
            old.save(update_fields=["status", "decided_at"])
        invitation = Invitation.objects.create(
            organisation=organisation, email=email, role=role, invited_by=invited_by, nonce=secrets.token_hex(16)
        )
        invitee = User.objects.filter(email__iexact=email).first()
        language = invitee.preferred_language if invitee else translation.get_language() or "da"
        if language not in ("da", "en"):
            language = "da"
        mail_enqueue(
            template="members/email/invitation",
            to=email,
            language=language,
            context={
                "invitation": invitation,
                "organisation": organisation,
                "invited_by": invited_by,
                "url": invitation_url(invitation, language=language),
                "days": INVITATION_MAX_AGE.days,
            },
        )
        audit_record(actor=invited_by, action="members.invitation.create", target=invitation, data={"role": role})
    return invitation


def invitation_revoke(*, invitation: Invitation, by) -> Invitation:
    with transaction.atomic():
        invitation = lock_one(invitation)
        invitation.revoke()
        invitation.save(update_fields=["status", "decided_at"])
        audit_record(actor=by, action="members.invitation.revoke", target=invitation)
    return invitation


def invitation_from_token(*, token: str) -> Invitation:
    """The pending invitation a token stands for; InvitationInvalid with a message for the person otherwise."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvitationInvalid(
            translation.gettext("This invitation has expired. Ask your colleague to invite you again.")
        ) from None
    except signing.BadSignature:
        raise InvitationInvalid(translation.gettext("This invitation link is not valid.")) from None
    invitation = (
        Invitation.objects.select_related("organisation").filter(pk=payload.get("i"), nonce=payload.get("n")).first()
    )
    if invitation is None:
        raise InvitationInvalid(translation.gettext("This invitation link is not valid."))
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationInvalid(translation.gettext("This invitation has already been used or withdrawn."))
    return invitation


def invitation_accept(*, invitation: Invitation, user) -> OrganisationRole:
    if user.email.lower() != invitation.email.lower():
        raise InvitationInvalid(
            translation.gettext("This invitation was sent to another email address. Log in with that address.")
        )
    with transaction.atomic():
        invitation = lock_one(invitation)
        try:
            invitation.accept(by=user)
        except InvalidTransition:
            raise InvitationInvalid(
                translation.gettext("This invitation has already been used or withdrawn.")
            ) from None
        invitation.save(update_fields=["status", "accepted_by", "decided_at"])
        row, _ = OrganisationRole.objects.get_or_create(
            organisation=invitation.organisation, user=user, role=invitation.role
        )
        audit_record(
            actor=user,
            action="members.invitation.accept",
            target=invitation.organisation,
            data={"invitation_id": invitation.pk, "role": invitation.role},
        )
    return row


def invitation_accept_new_account(*, invitation: Invitation, full_name: str, password: str) -> User:
    """The invitee has no account: the link proved the address, so the account starts verified."""
    with transaction.atomic():
        try:
            user = user_create(
                email=invitation.email,
                password=password,
                full_name=full_name,
                preferred_language=translation.get_language() or "da",
                email_verified=True,
            )
        except IntegrityError:
            raise InvitationInvalid(
                translation.gettext("An account with this email address exists. Log in to accept.")
            ) from None
        invitation_accept(invitation=invitation, user=user)
    return user


def application_anonymise(*, application: MembershipApplication) -> MembershipApplication:
    """Clear the contact person from an application; the organisation's own details stay for the record."""
    application.contact_name = ""
    application.contact_email = ""
    application.contact_phone = ""
    application.save(update_fields=["contact_name", "contact_email", "contact_phone"])
    return application
