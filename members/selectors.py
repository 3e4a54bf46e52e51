"""Reads of organisations and memberships, scoped to who asks."""

import hashlib
import time
from dataclasses import dataclass, fields
from datetime import timedelta
from itertools import groupby

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from members.models import (
    Invitation,
    Membership,
    MembershipApplication,
    MembershipFee,
    Organisation,
    OrganisationRole,
    Partner,
    Segment,
)

DIRECTORY_PAGE_SIZE = 30


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


# --- The public directory -------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    segment: str = ""
    kind: str = ""
    hub: str = ""
    size_band: str = ""
    tag: str = ""


def directory_queryset(*, filters: DirectoryFilters) -> QuerySet[Organisation]:
    organisations = (
        organisations_with_active_membership()
        .filter(listed_in_directory=True)
        .select_related("hub")
        .defer("search_vector", "hub__description", "hub__description_da", "hub__description_en")
        .prefetch_related(Prefetch("segments", queryset=Segment.objects.order_by("ordering")))
    )
    if filters.segment:
        organisations = organisations.filter(
            Exists(
                Organisation.segments.through.objects.filter(organisation=OuterRef("pk"), segment__code=filters.segment)
            )
        )
    if filters.kind:
        organisations = organisations.filter(kind=filters.kind)
    if filters.hub:
        organisations = organisations.filter(hub__slug=filters.hub)
    if filters.size_band:
        organisations = organisations.filter(size_band=filters.size_band)
    if filters.tag:
        offered = Organisation.offer_tags.through.objects.filter(organisation=OuterRef("pk"), tag__slug=filters.tag)
        sought = Organisation.seek_tags.through.objects.filter(organisation=OuterRef("pk"), tag__slug=filters.tag)
        organisations = organisations.filter(Exists(offered) | Exists(sought))
    query = filters.q.strip()
    if query:
        if settings.IS_POSTGRES:
            search = SearchQuery(query, config="danish", search_type="websearch")
            return (
                organisations.filter(search_vector=search)
                .annotate(rank=SearchRank(F("search_vector"), search))
                .order_by("-rank", "name")
            )
        text = Q()
        for field in (
            "name",
            "legal_name",
            "description_da",
            "description_en",
            "offers_da",
            "offers_en",
            "seeks_da",
            "seeks_en",
        ):
            text |= Q(**{f"{field}__icontains": query})
        organisations = organisations.filter(text)
    return organisations.order_by("name")


# What a directory card shows: a card that is not cached yet is rendered from these columns only.
DIRECTORY_CARD_FIELDS = (
    "slug",
    "name",
    "kind",
    "logo",
    "city",
    "hub",
    "hub__name",
    "hub__name_da",
    "hub__name_en",
    "description",
    "description_da",
    "description_en",
    "updated_at",
)


DIRECTORY_CACHE_VERSION_KEY = "members:directory:version"
DIRECTORY_CACHE_SECONDS = 300


def directory_cache_version_new() -> int:
    """A fresh version never equals one a stored value carries, even after the version key was evicted."""
    return time.time_ns()


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def directory_cache_read(*, keys: list[str], version: int | None = None) -> tuple[int, dict]:
    """The current version and those of `keys` that were stored under it: one cache round trip.
    directory_cache_invalidate() moves the version on, which makes every stored value stale at once."""
    found = cache.get_many(keys if version is not None else [DIRECTORY_CACHE_VERSION_KEY, *keys])
    if version is None:
        version = found.pop(DIRECTORY_CACHE_VERSION_KEY, None)
        if version is None:
            cache.add(DIRECTORY_CACHE_VERSION_KEY, directory_cache_version_new(), timeout=None)
            version = cache.get(DIRECTORY_CACHE_VERSION_KEY)
    return version, {key: stored[1] for key, stored in found.items() if stored[0] == version}


def directory_cache_write(*, version: int, items: dict) -> None:
    cache.set_many({key: (version, value) for key, value in items.items()}, timeout=DIRECTORY_CACHE_SECONDS)


DIRECTORY_FILTER_NAMES = [field.name for field in fields(DirectoryFilters)]


class DirectoryCache:
    """What one directory request may take from the cache, read in one round trip before anything else:
    the whole page (for anonymous visitors), the filter options, the rendered filter fields, the number of
    matches and which organisations the page lists. Everything is keyed by the raw query parameters and the
    language, and stored with the version."""

    def __init__(self, *, params, language: str, whole_page: bool):
        values = [(name, params.get(name)) for name in DIRECTORY_FILTER_NAMES]
        self.language = language
        self.keys = {
            "facets": f"members:directory:facets:{language}",
            "filters": "members:directory:filters:" + digest(repr((language, bool(params), values))),
            "count": "members:directory:count:" + digest(repr(values)),
            "rows": "members:directory:rows:" + digest(repr((values, params.get("page")))),
        }
        if whole_page:
            self.keys["page"] = "members:directory:" + digest(repr((sorted(params.lists()), language)))
        self.version, found = directory_cache_read(keys=list(self.keys.values()))
        self.found = {name: found[key] for name, key in self.keys.items() if key in found}

    def get(self, name: str):
        return self.found.get(name)

    def store(self, name: str, value) -> None:
        self.found[name] = value
        directory_cache_write(version=self.version, items={self.keys[name]: value})


# In the model's field order, as Model.from_db() takes them.
DIRECTORY_ROW_FIELDS = ("id", "name", "updated_at")


def directory_page(*, filters: DirectoryFilters, page: int | str = 1, cached: DirectoryCache) -> Page:
    """One page of the directory. The number of matches and the page's rows (just what the cards' cache keys
    need) come from the cache when they can: a COUNT over a full-text match is the dearest query here, and the
    same filter sets and pages come back all the time."""
    organisations = []  # only built when the cache lacks something: building a queryset has its cost too
    if cached.get("count") is None or cached.get("rows") is None:
        organisations = directory_queryset(filters=filters).select_related(None).prefetch_related(None)
    paginator = Paginator(organisations, DIRECTORY_PAGE_SIZE)
    if cached.get("count") is None:
        cached.store("count", paginator.count)
    paginator.count = cached.get("count")
    try:
        number = paginator.validate_number(page)
    except PageNotAnInteger:
        number = 1
    except EmptyPage:
        number = paginator.num_pages
    if cached.get("rows") is None:
        bottom = (number - 1) * DIRECTORY_PAGE_SIZE
        rows = organisations.values_list(*DIRECTORY_ROW_FIELDS)[bottom : bottom + DIRECTORY_PAGE_SIZE]
        cached.store("rows", list(rows))
    return Page(
        [Organisation.from_db("default", DIRECTORY_ROW_FIELDS, row) for row in cached.get("rows")], number, paginator
    )


def directory_cards(*, organisations: list[Organisation], cached: DirectoryCache) -> list[str]:
    """Each organisation's card as HTML, from the cache when its profile has not changed since (the key carries
    updated_at, the stored value the directory's version, so a renamed segment or hub is seen too); the cards that
    are missing are rendered and stored in one go, from their card fields, hub and segments fetched for them alone."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    keys = [f"members:directory:card:{o.pk}:{o.updated_at.timestamp()}:{cached.language}" for o in organisations]
    _, found = directory_cache_read(keys=keys, version=cached.version)
    missing = {key: o for o, key in zip(organisations, keys, strict=True) if key not in found}
    if missing:
        full = (
            Organisation.objects.filter(pk__in=[o.pk for o in missing.values()])
            .select_related("hub")
            .only(*DIRECTORY_CARD_FIELDS)
            .prefetch_related(
                Prefetch("segments", queryset=Segment.objects.only("name", "name_da", "name_en", "ordering"))
            )
            .in_bulk()
        )
        rendered = {
            key: render_to_string("members/_directory_card.html", {"organisation": full[organisation.pk]})
            for key, organisation in missing.items()
            if organisation.pk in full  # not deleted since the page was read
        }
        directory_cache_write(version=cached.version, items=rendered)
        found.update(rendered)
    return [mark_safe(found[key]) for key in keys if key in found]  # noqa: S308 (rendered by our own template)


def directory_facets(*, cached: DirectoryCache) -> dict[str, list[tuple[str, str]]]:
    """The segment, hub and tag options of the directory's filters in the request's language; they change
    rarely, and any change moves the directory's cache version on."""
    from hubs.models import Hub
    from members.models import Tag

    if cached.get("facets") is None:
        cached.store(
            "facets",
            {
                "segment": [(s.code, s.name) for s in Segment.objects.only("code", "name", "name_da", "name_en")],
                "hub": [(h.slug, h.name) for h in Hub.objects.only("slug", "name", "name_da", "name_en")],
                "tag": [(t.slug, t.name) for t in Tag.objects.only("slug", "name", "name_da", "name_en")],
            },
        )
    return cached.get("facets")


def directory_organisation(*, slug: str) -> Organisation:
    """A listed active member's public page; anything else is 404."""
    organisation = (
        directory_queryset(filters=DirectoryFilters())
        .filter(slug=slug)
        .select_related("region")
        .prefetch_related("offer_tags", "seek_tags")
        .first()
    )
    if organisation is None:
        raise Http404
    return organisation


def membership_fees() -> dict[str, int]:
    """The yearly fee (DKK) by size band, in the bands' order."""
    fees = dict(MembershipFee.objects.values_list("size_band", "annual_fee_dkk"))
    return {band: fees[band] for band in Organisation.SizeBand.values if band in fees}


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
