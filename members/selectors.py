"""Reads of organisations and memberships, scoped to who asks."""

from datetime import timedelta
from decimal import Decimal
from itertools import groupby

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from members.models import (
    Benefit,
    Invitation,
    Membership,
    MembershipApplication,
    MembershipType,
    MembershipTypeFee,
    Organisation,
    OrganisationRole,
    Partner,
    Segment,
)


def active_membership_q(*, on=None, prefix: str = "") -> Q:
    on = on or timezone.localdate()
    return Q(
        **{
            f"{prefix}status": Membership.Status.ACTIVE,
            f"{prefix}period_start__lte": on,
            f"{prefix}period_end__gte": on,
        }
    )


def organisations_with_active_membership(*, on=None) -> QuerySet[Organisation]:
    active = Membership.objects.filter(active_membership_q(on=on), organisation=OuterRef("pk"))
    return Organisation.objects.filter(Exists(active))


# A benefit and the membership type's field that grants it, for the queries that filter on one.
BENEFIT_FIELDS = {
    Benefit.MEMBERS_ONLY_EVENTS: "members_only_events",
    Benefit.MEMBER_SEATS: "member_seats",
    Benefit.DIRECTORY: "directory_listing",
    Benefit.MATCHMAKING: "matchmaking",
}


def organisation_active_membership(*, organisation, on=None) -> Membership | None:
    """The membership in force today (the one whose period holds today), with its type."""
    return (
        Membership.objects.filter(active_membership_q(on=on), organisation=organisation)
        .select_related("membership_type")
        .order_by("-period_start")
        .first()
    )


def organisation_benefits(organisation, *, on=None) -> frozenset[str]:
    """What the organisation's membership in force gives (members.models.Benefit values); nothing without one."""
    membership = organisation_active_membership(organisation=organisation, on=on)
    return membership.membership_type.benefits if membership is not None else frozenset()


def organisations_with_benefit(benefit: str, *, on=None) -> QuerySet[Organisation]:
    """Organisations whose membership in force has a type that gives `benefit`."""
    active = Membership.objects.filter(
        active_membership_q(on=on), organisation=OuterRef("pk"), **{f"membership_type__{BENEFIT_FIELDS[benefit]}": True}
    )
    return Organisation.objects.filter(Exists(active))


def user_benefits(*, user, on=None) -> frozenset[str]:
    """The union of what the memberships of the organisations this person acts for give."""
    if not user.is_authenticated:
        return frozenset()
    types = MembershipType.objects.filter(
        Exists(
            Membership.objects.filter(
                active_membership_q(on=on),
                membership_type=OuterRef("pk"),
                organisation__roles__user=user,
            )
        )
    )
    return frozenset().union(*(membership_type.benefits for membership_type in types))


def user_organisation_with_benefit(*, user, benefit: str) -> Organisation | None:
    """The first of this person's organisations whose membership gives `benefit` (what they register for)."""
    if not user.is_authenticated:
        return None
    return (
        organisations_with_benefit(benefit)
        .filter(Exists(OrganisationRole.objects.filter(organisation=OuterRef("pk"), user=user)))
        .first()
    )


def user_newsletter_topics(*, user) -> frozenset[str]:
    """Slugs of the members' newsletter topics the memberships of this person's organisations include."""
    if not user.is_authenticated:
        return frozenset()
    types = MembershipType.objects.filter(
        Exists(
            Membership.objects.filter(
                active_membership_q(), membership_type=OuterRef("pk"), organisation__roles__user=user
            )
        )
    )
    return frozenset(slug for membership_type in types for slug in membership_type.newsletter_topics or [])


def member_newsletter_topics() -> frozenset[str]:
    """Every topic slug some membership type includes: those topics are for members whose type includes them."""
    return frozenset(
        slug for topics in MembershipType.objects.values_list("newsletter_topics", flat=True) for slug in topics or []
    )


def membership_types_for_kind(*, kind: str | None = None) -> list[MembershipType]:
    """The types offered on the application form, all or those an organisation of `kind` may hold."""
    types = list(MembershipType.objects.filter(is_active=True).prefetch_related("fees"))
    return [t for t in types if kind is None or t.allows_kind(kind)]


def membership_fee(*, membership_type: MembershipType, size_band: str, year: int) -> Decimal | None:
    """The yearly fee for the band (or the type's flat fee) in `year`; a year without its own fees keeps the latest
    earlier year's. None when staff have set none."""
    fees = [fee for fee in _type_fees(membership_type) if fee.year <= year and fee.size_band in (size_band, "")]
    if not fees:
        return None
    latest = max(fee.year for fee in fees)
    for band in (size_band, ""):
        for fee in fees:
            if fee.year == latest and fee.size_band == band:
                return fee.amount
    return None


def _type_fees(membership_type: MembershipType) -> list[MembershipTypeFee]:
    cache = getattr(membership_type, "_prefetched_objects_cache", {})
    return list(cache["fees"]) if "fees" in cache else list(membership_type.fees.all())


def membership_fee_table(*, year: int, kind: str | None = None) -> list[dict]:
    """For the application form and the terms page: each offered type with its fee per size band in `year`."""
    rows = []
    for membership_type in membership_types_for_kind(kind=kind):
        fees = {
            band: membership_fee(membership_type=membership_type, size_band=band, year=year)
            for band in Organisation.SizeBand.values
        }
        rows.append({"type": membership_type, "fees": fees, "flat": len(set(fees.values())) == 1})
    return rows


def user_organisations(*, user) -> QuerySet[Organisation]:
    """The organisations a person acts for, in any role."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(roles__user=user).distinct()


def user_member_organisations(*, user) -> QuerySet[Organisation]:
    """The organisations with an active membership that this person acts for: what makes them a member."""
    if not user.is_authenticated:
        return Organisation.objects.none()
    return organisations_with_active_membership().filter(
        Exists(OrganisationRole.objects.filter(organisation=OuterRef("pk"), user=user))
    )


def user_is_member(*, user) -> bool:
    return user_member_organisations(user=user).exists()


def organisation_membership_history(*, organisation) -> list[Membership]:
    """Every period of the organisation, newest first, with type and invoice (one query)."""
    return list(
        organisation.memberships.select_related("membership_type", "next_type", "invoice").order_by("-period_start")
    )


def organisation_for_admin(*, user, pk: int) -> Organisation:
    """An organisation the user administers, or 404 (never 403: a foreign id looks like a missing one)."""
    organisation = (
        Organisation.objects.filter(pk=pk, roles__user=user, roles__role=OrganisationRole.Role.ADMIN)
        .select_related("region", "hub")
        .first()
        if user.is_authenticated
        else None
    )
    if organisation is None:
        raise Http404
    return organisation


def organisation_colleagues(*, organisation) -> list[dict]:
    """One entry per person, with their roles."""
    rows = (
        OrganisationRole.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__full_name", "user__email", "role")
    )
    people = []
    for user, roles in groupby(rows, key=lambda row: row.user):
        roles = list(roles)
        people.append(
            {
                "user": user,
                "roles": [row.role for row in roles],
                "role_labels": [row.get_role_display() for row in roles],
                "is_admin": any(row.role == OrganisationRole.Role.ADMIN for row in roles),
            }
        )
    return people


def organisation_current_membership(*, organisation) -> Membership | None:
    return organisation.memberships.order_by("-period_end").first()


def partners_by_kind() -> list[dict]:
    partners = sorted(
        Partner.objects.select_related("organisation"),
        key=lambda p: (list(Partner.Kind.values).index(p.kind), p.ordering),
    )
    for partner in partners:
        # A partner that is also a member organisation shows that organisation's logo unless it has its own.
        partner.card_logo = partner.logo or (partner.organisation.logo if partner.organisation else None)
        partner.monogram = partner.short_name or "".join(word[0] for word in partner.name.split()[:3]).upper()
    return [
        {"kind": Partner.Kind(kind).label, "code": kind, "partners": list(rows)}
        for kind, rows in groupby(partners, key=lambda p: p.kind)
    ]


# --- The staff dashboard --------------------------------------------------------------------------


def _bars(rows: list[tuple[str, int]]) -> list[dict]:
    top = max((count for _, count in rows), default=0) or 1
    return [{"label": label, "count": count, "width": round(count * 100 / top)} for label, count in rows]


EXPIRING_WITHIN_DAYS = 30


def memberships_expiring_filter(*, on=None) -> dict:
    """Active memberships whose period ends within EXPIRING_WITHIN_DAYS, as field lookups (the admin's list takes
    the same ones as query parameters)."""
    today = on or timezone.localdate()
    return {
        "status__exact": Membership.Status.ACTIVE,
        "period_end__gte": today.isoformat(),
        "period_end__lte": (today + timedelta(days=EXPIRING_WITHIN_DAYS)).isoformat(),
    }


def memberships_expiring(*, hubs=None) -> QuerySet[Membership]:
    expiring = Membership.objects.filter(**memberships_expiring_filter())
    if hubs is not None:
        expiring = expiring.filter(organisation__hub__in=hubs)
    return expiring


def applications_pending() -> QuerySet[MembershipApplication]:
    return MembershipApplication.objects.filter(status=MembershipApplication.Status.PENDING)


def admin_dashboard(*, user) -> dict:
    """Figures for the admin index, scoped to the hubs a hub staff user works for."""
    from hubs.models import Hub
    from hubs.scoping import user_hub_scope

    hubs = user_hub_scope(user)
    members = organisations_with_active_membership()
    if hubs is not None:
        members = members.filter(hub__in=hubs)
    member_ids = members.values("pk")
    segments = Segment.objects.annotate(n=Count("organisations", filter=Q(organisations__in=member_ids)))
    hub_rows = Hub.objects.annotate(n=Count("organisations", filter=Q(organisations__in=member_ids)))
    if hubs is not None:
        hub_rows = hub_rows.filter(pk__in=hubs)
    # order_by() drops the model's ordering by name, which would otherwise join the GROUP BY: one row per name.
    sizes = dict(
        Organisation.objects.filter(pk__in=member_ids).order_by().values_list("size_band").annotate(n=Count("pk"))
    )
    expiring = memberships_expiring(hubs=hubs).select_related("organisation").order_by("period_end")
    return {
        "member_count": members.count(),
        "by_segment": _bars([(s.name, s.n) for s in segments]),
        "by_hub": _bars([(h.name, h.n) for h in hub_rows]),
        "by_size": _bars([(label, sizes.get(value, 0)) for value, label in Organisation.SizeBand.choices]),
        "pending_applications": applications_pending().count(),
        "expiring": list(expiring[:10]),
        "expiring_count": expiring.count(),
    }


# --- "My account" and personal data ---------------------------------------------------------------


def portal_organisations(*, user) -> list[dict]:
    """The user's organisations with their roles, latest membership and colleagues, in a fixed number of
    queries however many organisations there are."""
    my_roles = list(
        OrganisationRole.objects.filter(user=user)
        .select_related("organisation")
        .prefetch_related(
            Prefetch(
                "organisation__memberships",
                queryset=Membership.objects.order_by("-period_end"),
                to_attr="memberships_latest",
            ),
            Prefetch(
                "organisation__roles",
                queryset=OrganisationRole.objects.select_related("user").order_by("user__full_name"),
                to_attr="all_roles",
            ),
        )
        .order_by("organisation__name", "role")
    )
    items = []
    for organisation, rows in groupby(my_roles, key=lambda row: row.organisation):
        rows = list(rows)
        colleagues = {role.user.pk: role.user for role in organisation.all_roles if role.user_id != user.pk}
        items.append(
            {
                "organisation": organisation,
                "role_labels": [row.get_role_display() for row in rows],
                "is_admin": any(row.role == OrganisationRole.Role.ADMIN for row in rows),
                "membership": organisation.memberships_latest[0] if organisation.memberships_latest else None,
                "colleagues": list(colleagues.values()),
            }
        )
    return items


def portal_context(request) -> dict:
    return {
        "organisations": portal_organisations(user=request.user),
        "pending_applications": list(
            applications_pending().filter(applicant=request.user).only("name", "created_at").order_by("created_at")
        ),
    }


def personal_data(*, user) -> dict:
    """What the members app keeps about a person, for their data export."""
    return {
        "organisation_roles": [
            {"organisation": role.organisation.name, "role": role.role, "since": role.created_at.isoformat()}
            for role in OrganisationRole.objects.filter(user=user).select_related("organisation")
        ],
        "membership_applications": [
            {
                "organisation": application.name,
                "cvr": application.cvr,
                "contact_name": application.contact_name,
                "contact_email": application.contact_email,
                "contact_phone": application.contact_phone,
                "status": application.status,
                "submitted": application.created_at.isoformat(),
            }
            for application in MembershipApplication.objects.filter(
                Q(applicant=user) | Q(contact_email__iexact=user.email)
            ).order_by("created_at", "pk")
        ],
        "billing_contact_of": [
            {
                "organisation": organisation.name,
                "billing_contact_name": organisation.billing_contact_name,
                "billing_email": organisation.billing_email,
            }
            for organisation in Organisation.objects.filter(billing_email__iexact=user.email).order_by("pk")
        ],
        "invitations_received": [
            {"organisation": invitation.organisation.name, "role": invitation.role, "status": invitation.status}
            for invitation in Invitation.objects.filter(email__iexact=user.email).select_related("organisation")
        ],
    }


def account_deletion_blockers(*, user) -> list[str]:
    """An organisation must keep an admin: its last admin hands the role on before leaving."""
    from django.utils.translation import gettext

    sole = (
        Organisation.objects.filter(roles__user=user, roles__role=OrganisationRole.Role.ADMIN)
        .annotate(admins=Count("roles", filter=Q(roles__role=OrganisationRole.Role.ADMIN), distinct=True))
        .filter(admins=1)
    )
    return [
        gettext("You are the only admin of %(organisation)s. Hand the admin role on to a colleague first.")
        % {"organisation": organisation.name}
        for organisation in sole
    ]


def hub_member_count(*, hub) -> int:
    """Member companies (active membership) the hub serves, for its public page."""
    return organisations_with_active_membership().filter(hub=hub).count()
