"""Writes on organisations, applications, memberships, roles and invitations. Each takes the acting user and
leaves an audit row for what staff or members must be able to trace."""

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify

from accounts.audit import audit_record
from accounts.models import User
from accounts.services import user_create
from common.errors import DomainError
from common.locks import lock_one, locked
from members.models import (
    InvalidTransition,
    Invitation,
    Membership,
    MembershipApplication,
    MembershipFee,
    Organisation,
    OrganisationRole,
)
from outbox.api import mail_enqueue

Role = OrganisationRole.Role
INVITATION_SALT = "members.invitation"
INVITATION_MAX_AGE = timedelta(days=14)
RENEWAL_REMINDER_DAYS = (30, 7)


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


def fee_for_size_band(*, size_band: str) -> int:
    fee = MembershipFee.objects.filter(size_band=size_band).first()
    return fee.annual_fee_dkk if fee else 0


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
    return {
        "hub": hub_for_region(application.region),
        "period_start": start,
        "period_end": one_year_from(start),
        "fee_dkk": fee_for_size_band(size_band=application.size_band),
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
        mail_enqueue(
            template="members/email/welcome",
            to=application.contact_email,
            language=application.language,
            context={"organisation": organisation, "membership": membership, "application": application},
        )
        audit_record(
            actor=approved_by,
            action="members.application.approve",
            target=application,
            data={"organisation_id": organisation.pk, "membership_id": membership.pk},
        )
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


MEMBERSHIP_EDITABLE_FIELDS = ("organisation", "period_start", "period_end", "fee_dkk", "invoice_reference")


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


def membership_renew(*, membership: Membership, by) -> Membership:
    """The next year's membership, active from the day after this one ends; it expires if left unpaid."""
    with transaction.atomic():
        membership = _membership_locked(membership)
        if membership.status not in (Membership.Status.ACTIVE, Membership.Status.EXPIRED):
            raise InvalidTransition(f"cannot renew a {membership.status} membership")
        start = membership.period_end + timedelta(days=1)
        if Membership.objects.filter(organisation=membership.organisation, period_start__gte=start).exists():
            raise MembersError(translation.gettext("This membership has already been renewed."))
        renewal = Membership.objects.create(
            organisation=membership.organisation,
            status=Membership.Status.ACTIVE,
            period_start=start,
            period_end=one_year_from(start),
            fee_dkk=fee_for_size_band(size_band=membership.organisation.size_band),
        )
        audit_record(actor=by, action="members.membership.renew", target=renewal, data={"previous_id": membership.pk})
    return renewal


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
    twice); nothing when the next period is already booked."""
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
            .select_related("organisation")
            .order_by("pk")
        )
        for membership in due:
            if Membership.objects.filter(
                organisation=membership.organisation_id, period_start__gt=membership.period_end
            ).exists():
                continue
            for contact in membership_contacts(organisation=membership.organisation):
                with transaction.atomic():
                    message = mail_enqueue(
                        template="members/email/renewal_reminder",
                        to=contact.email,
                        language=contact.preferred_language,
                        context={"membership": membership, "organisation": membership.organisation, "days": days},
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
