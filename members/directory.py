"""The public member directory: who is listed, its filters, a page of cards, and the cache that serves them.

Everything stored here is tagged with the directory's generation, a number kept in the cache. The receivers in
members/receivers.py move it on after any committed change to a model the directory shows, however that change was
made, so every stored part goes stale at once and nothing has to be deleted. A page's cards are stored as data
(`Card` values) beside their rendering by the templates (filters, cards and pagination), so that a repeat visit
costs one cache round trip and no query of its own."""

import functools
import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Window
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from modeltranslation.utils import get_language, resolution_order

from common.compiled import stand_in_places, values_placed
from common.widgets import escape_text
from hubs.models import Hub
from members.models import Benefit, Organisation, Segment, Tag
from members.selectors import organisations_with_benefit

PAGE_SIZE = 30
CACHE_SECONDS = 300
GENERATION_KEY = "members:directory:generation"
EXCERPT_WORDS = 25


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    segment: str = ""
    kind: str = ""
    hub: str = ""
    size_band: str = ""
    tag: str = ""


_listed: dict = {}  # {day: the query of listed members on that day}


def _listed_on(day) -> QuerySet[Organisation]:
    """The listed members on `day`, as a fresh copy of a query built once a day: building it (the membership in
    force is an Exists that names the day) was half the time it took to build a filtered search's query."""
    listed = _listed.get(day)
    if listed is None:
        listed = organisations_with_benefit(Benefit.DIRECTORY, on=day).filter(listed_in_directory=True)
        _listed.clear()
        _listed[day] = listed
    return listed.all()


def directory_queryset(*, filters: DirectoryFilters, facets: dict | None = None) -> QuerySet[Organisation]:
    """The listed active members (whose membership type includes the listing) that match `filters`, best match first
    for a search, else by name. With `facets` (directory_facets), a segment and a hub are matched by their ids: the
    planner then checks each organisation's segments with one index lookup instead of a join per row (a quarter
    less time for a segment filter on 2,000 members)."""
    organisations = _listed_on(timezone.localdate())
    segment_ids, hub_ids = (facets or {}).get("segment_ids", {}), (facets or {}).get("hub_ids", {})
    if filters.segment:
        links = Organisation.segments.through.objects.filter(organisation=OuterRef("pk"))
        if filters.segment in segment_ids:
            links = links.filter(segment_id=segment_ids[filters.segment])
        else:
            links = links.filter(segment__code=filters.segment)
        organisations = organisations.filter(Exists(links))
    if filters.kind:
        organisations = organisations.filter(kind=filters.kind)
    if filters.hub:
        if filters.hub in hub_ids:
            organisations = organisations.filter(hub_id=hub_ids[filters.hub])
        else:
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


def directory_organisation(*, slug: str) -> Organisation:
    """A listed active member's public page; anything else is 404."""
    organisation = (
        directory_queryset(filters=DirectoryFilters())
        .filter(slug=slug)
        .select_related("region", "hub")
        .defer("search_vector")
        .prefetch_related(
            Prefetch("segments", queryset=Segment.objects.order_by("ordering")), "offer_tags", "seek_tags"
        )
        .first()
    )
    if organisation is None:
        raise Http404
    return organisation


# --- The cache ------------------------------------------------------------------------------------


def generation_new() -> int:
    """A generation never repeats, even after the key was evicted: it starts from the clock."""
    return time.time_ns()


def generation_bump() -> None:
    """Stale from the commit on: a reader before it still sees the old rows and may store them, but only under the
    generation that this moves on from."""
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, generation_new(), timeout=None))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@functools.cache
def release() -> str:
    """This build's static files, as a short digest of their hashed names ("plain" without a manifest). A stored
    page names the hashed files of the release that rendered it, which the next release no longer serves, and
    the cache outlives a deployment: each release keeps pages of its own."""
    hashed = _static_names()
    return _digest(repr(sorted(hashed.items())))[:16] if hashed else "plain"


def _static_names() -> dict:
    """The manifest's hashed name of each static file; empty without a manifest (development, tests)."""
    return getattr(staticfiles_storage, "hashed_files", None) or {}


class DirectoryCache:
    """What one directory request may take from the cache, tagged with the generation: the whole page for `visitor`
    ("anonymous" or "member", see `members.views.directory`; None for a visitor who gets a page of their own), the
    filter options, and the listing (the page of cards, the number of matches and their rendering). Keys follow the
    raw query parameters and the language.

    The first round trip reads the generation with the whole page (or, for a page of one's own, the listing): a
    repeat visit needs nothing else and unpickles nothing else. Whatever is asked for next is read in one more."""

    def __init__(self, *, params, language: str, visitor: str | None):
        request_digest = _digest(repr((sorted(params.lists()), language)))
        self.keys = {
            "facets": f"members:directory:facets:{language}",
            "listing": f"members:directory:listing:{request_digest}",
        }
        if visitor is not None:
            self.keys["page"] = f"members:directory:page:{release()}:{visitor}:{request_digest}"
        first = ["page"] if visitor is not None else ["listing"]
        found = cache.get_many([GENERATION_KEY, *(self.keys[name] for name in first)])
        self.generation = found.pop(GENERATION_KEY, None)
        if self.generation is None:
            cache.add(GENERATION_KEY, generation_new(), timeout=None)
            self.generation = cache.get(GENERATION_KEY)
        self.found = {}
        self.read = set()
        self._take(found, names=first)

    def _take(self, found: dict, *, names: list[str]) -> None:
        self.read.update(names)
        for name in names:
            stored = found.get(self.keys[name])
            if stored is not None and stored[0] == self.generation:
                self.found[name] = stored[1]

    def get(self, name: str):
        if name in self.keys and name not in self.read:
            rest = [other for other in self.keys if other not in self.read]
            self._take(cache.get_many([self.keys[other] for other in rest]), names=rest)
        return self.found.get(name)

    def store(self, **values) -> None:
        """Store these parts (by name) in one round trip."""
        self.read.update(values)
        self.found.update(values)
        cache.set_many(
            {self.keys[name]: (self.generation, value) for name, value in values.items()}, timeout=CACHE_SECONDS
        )


# --- What the page shows --------------------------------------------------------------------------


def directory_facets(*, cached: DirectoryCache) -> dict:
    """The segment, hub and tag options of the filters in the request's language, and the segment and hub names
    the cards show (by id)."""
    if cached.get("facets") is None:
        segments = list(Segment.objects.only("code", "name", "name_da", "name_en"))
        hubs = list(Hub.objects.only("slug", "name", "name_da", "name_en"))
        cached.store(
            facets={
                "segment": [(s.code, s.name) for s in segments],
                "hub": [(h.slug, h.name) for h in hubs],
                "tag": [(t.slug, t.name) for t in Tag.objects.only("slug", "name", "name_da", "name_en")],
                "segment_names": {s.pk: s.name for s in segments},
                "hub_names": {h.pk: h.name for h in hubs},
                "segment_ids": {s.code: s.pk for s in segments},
                "hub_ids": {h.slug: h.pk for h in hubs},
            },
        )
    return cached.get("facets")


@dataclass(frozen=True)
class Card:
    """One organisation as its directory card shows it, in one language."""

    pk: int
    name: str
    url: str
    logo_url: str
    kind: str
    city: str
    hub: str
    segments: tuple[str, ...]
    excerpt: str


def cards_html(cards: list[Card]) -> str:
    """The cards as members/_directory_results.html shows them, written out here: through the template the loop
    over 30 cards took 1 ms, about a seventh of a cold directory page's CPU (common.widgets.escape_text says why
    escaping costs less here)."""
    logo_tag = '<img src="{}" alt="" width="48" height="48" class="organisation-logo card-logo"> '
    parts = []
    for card in cards:
        name, url, kind = escape_text(card.name), escape_text(card.url), escape_text(card.kind)
        logo = logo_tag.format(escape_text(card.logo_url)) if card.logo_url else ""
        where = "".join(f" · {escape_text(place)}" for place in (card.city, card.hub) if place)
        badges = "".join(f'<span class="badge">{escape_text(segment)}</span> ' for segment in card.segments)
        excerpt = f"<p>{escape_text(card.excerpt)}</p>" if card.excerpt else ""
        parts.append(
            f'\n      <li class="card">\n        <h2>{logo}<a href="{url}">{name}</a></h2>'
            f'\n        <p class="muted">{kind}{where}</p>\n        <p>{badges}</p>\n        {excerpt}'
            "\n      </li>\n    "
        )
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


SLUG_MARK = "0slug0"
# What a card is built from: the organisation's own columns (hub and segment names come from the facets).
CARD_FIELDS = ("slug", "name", "kind", "logo", "city", "hub", "description", "description_da", "description_en")


def directory_cards(*, organisations: list[Organisation], facets: dict) -> list[Card]:
    """The cards of `organisations` (loaded with CARD_FIELDS), with their segments: from `segment_ids` where the
    rows carry it (`_card_rows` on PostgreSQL), else in one query for all."""
    if all(hasattr(organisation, "segment_ids") for organisation in organisations):
        linked = {(organisation.pk, segment) for organisation in organisations for segment in organisation.segment_ids}
    else:
        links = Organisation.segments.through.objects.filter(organisation__in=[o.pk for o in organisations])
        linked = {(organisation, segment) for organisation, segment in links.values_list("organisation", "segment")}
    # Once per page: get_kind_display() hashes every (lazy) choice label on each call, and a URL reversal per card
    # was a third of building the cards (a slug needs no quoting: the marker stands where it goes).
    kinds = {value: str(label) for value, label in Organisation.Kind.choices}
    url = reverse("members:organisation", kwargs={"slug": SLUG_MARK})
    return [
        Card(
            pk=organisation.pk,
            name=organisation.name,
            url=url.replace(SLUG_MARK, organisation.slug),
            logo_url=organisation.logo.url if organisation.logo else "",
            kind=kinds.get(organisation.kind, organisation.kind),
            city=organisation.city,
            hub=facets["hub_names"].get(organisation.hub_id, ""),
            segments=tuple(name for pk, name in facets["segment_names"].items() if (organisation.pk, pk) in linked),
            excerpt=Truncator(organisation.description).words(EXCERPT_WORDS, truncate=" …"),
        )
        for organisation in organisations
    ]


@dataclass(frozen=True)
class Listing:
    """A page of the directory: its cards, the number of matches, and `body`, the filters, cards and pagination as
    the template rendered them (render_to_string() gives a SafeString, and the cache keeps it one)."""

    count: int
    number: int
    cards: list[Card]
    body: str

    @property
    def page(self) -> Page:
        paginator = Paginator([], PAGE_SIZE)
        paginator.count = self.count
        return Page(self.cards, self.number, paginator)


def directory_listing(*, filters: DirectoryFilters, form, params, cached: DirectoryCache) -> Listing:
    """One page of cards for valid `filters` (from `form`, which the rendering shows), rendered; the caller stores
    it (with the whole page, where there is one, in the same round trip). The
    number of matches comes with the page's rows (a window count): one pass over the match, the dearest part of a
    search, instead of a COUNT and then the rows. A page past the end shows the last page, as Paginator would."""
    facets = directory_facets(cached=cached)
    rows_on_page = _card_rows_query(filters=filters, facets=facets)
    paginator = Paginator([], PAGE_SIZE)
    try:
        requested = int(params.get("page", 1))
    except (TypeError, ValueError):
        requested = 1
    rows = rows_on_page(requested) if requested >= 1 else []
    # A page without rows (no match, or past the end) cannot tell the number of matches: it is counted.
    paginator.count = rows[0].matches if rows else directory_queryset(filters=filters, facets=facets).count()
    try:
        number = paginator.validate_number(requested)
    except EmptyPage:
        number = paginator.num_pages
    if number != requested:
        rows = rows_on_page(number)
    cards = directory_cards(organisations=rows, facets=facets)
    page = Page(cards, number, paginator)
    query = params.copy()
    query.pop("page", None)
    body = render_to_string(
        "members/_directory_body.html",
        {"form": form, "page": page, "cards_html": cards_html(cards), "query": query.urlencode()},
    )
    return Listing(count=paginator.count, number=number, cards=cards, body=body)


def _card_rows(organisations: QuerySet[Organisation]) -> QuerySet[Organisation]:
    """The fields a card needs, with the number of all the matches on every row (a window count) and, on
    PostgreSQL, the ids of the organisation's segments (a query of their own took a tenth of a cold page)."""
    rows = organisations.only(*CARD_FIELDS).annotate(matches=Window(Count("*")))
    if settings.IS_POSTGRES:
        links = Organisation.segments.through.objects.filter(organisation=OuterRef("pk")).values("segment_id")
        rows = rows.annotate(segment_ids=ArraySubquery(links))
    return rows


# The rows query is compiled once a day for each shape of search (which filters are set, and whether the segment
# and the hub asked for are known): compiling it took 0.9 ms, as long as the rest of a cold page's query work. It
# is compiled with these stand-ins where the values asked for go, and each request puts its values in their places.
_STAND_INS = {
    "q": "0q-stand-in0",
    "segment": "0segment-stand-in0",
    "kind": "0kind-stand-in0",
    "hub": "0hub-stand-in0",
    "size_band": "0size-stand-in0",
    "tag": "0tag-stand-in0",
}
_ID_STAND_INS = {"segment": -730_001, "hub": -730_002}
_rows_sql: dict = {}  # {(day, shape): (sql, params, {position: stand-in})}


def _card_rows_query(*, filters: DirectoryFilters, facets: dict):
    """A function from a page number to that page's rows (`_card_rows`) for valid `filters`."""
    if not settings.IS_POSTGRES:  # SQLite (development): its `icontains` search rewrites the values it is given
        rows = _card_rows(directory_queryset(filters=filters, facets=facets))
        return lambda number: list(rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    values, shape, stand_in_filters, stand_in_facets = {}, [], {}, {"segment_ids": {}, "hub_ids": {}}
    for name, stand_in in _STAND_INS.items():
        value = getattr(filters, name).strip() if name == "q" else getattr(filters, name)
        known = facets.get(f"{name}_ids", {})
        if not value:
            shape.append("")
            continue
        stand_in_filters[name] = stand_in
        if value in known:
            stand_in_facets[f"{name}_ids"][stand_in] = _ID_STAND_INS[name]
            values[_ID_STAND_INS[name]] = known[value]
            shape.append("id")
        else:
            values[stand_in] = value
            shape.append("value")
    key = (timezone.localdate(), tuple(shape))
    compiled = _rows_sql.get(key)
    if compiled is None:
        query = _card_rows(directory_queryset(filters=DirectoryFilters(**stand_in_filters), facets=stand_in_facets))
        sql, params = query.query.sql_with_params()
        # Each stand-in is its own name here, wherever the query repeats it.
        places = stand_in_places(params, {stand_in: stand_in for stand_in in values}, what=f"directory {shape}")
        if _rows_sql and next(iter(_rows_sql))[0] != key[0]:
            _rows_sql.clear()
        compiled = _rows_sql[key] = (sql, tuple(params), places)
    sql, template, places = compiled
    params = values_placed(template, places, values)

    def rows_on_page(number: int) -> list[CardRow]:
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*params, PAGE_SIZE, (number - 1) * PAGE_SIZE])
            names = [column.name for column in cursor.description]
            languages = resolution_order(get_language())  # as modeltranslation reads a translated field
            return [CardRow(dict(zip(names, row, strict=True)), languages=languages) for row in cursor.fetchall()]

    return rows_on_page


_LOGO = Organisation._meta.get_field("logo")


class CardRow:
    """A row of the compiled rows query, with what `directory_cards` reads of an organisation: building model
    instances for 30 rows took a tenth of a cold page (modeltranslation wraps every instance's construction)."""

    __slots__ = ("city", "description", "hub_id", "kind", "logo", "matches", "name", "pk", "segment_ids", "slug")

    def __init__(self, row: dict, *, languages: tuple[str, ...]):
        self.pk, self.slug, self.name, self.kind = row["id"], row["slug"], row["name"], row["kind"]
        self.city, self.hub_id, self.matches = row["city"], row["hub_id"], row["matches"]
        self.segment_ids = row["segment_ids"]
        self.logo = _LOGO.attr_class(None, _LOGO, row["logo"]) if row["logo"] else ""
        # The language asked for, then its fallbacks (MODELTRANSLATION_FALLBACK_LANGUAGES), as modeltranslation reads.
        self.description = next((row[f"description_{code}"] for code in languages if row[f"description_{code}"]), "")
