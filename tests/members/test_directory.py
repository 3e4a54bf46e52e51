"""The member directory's cache follows the models: a write made straight through the ORM, outside any service,
shows on the next request, for anonymous visitors and signed-in members (each served a stored page) alike; a
cache hit costs a fixed number of queries and one cache round trip."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from hubs.models import Hub, Region
from members.directory import GENERATION_KEY
from members.models import Membership, Organisation, Segment, Tag
from tests.factories import UserFactory, member_organisation_create

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["anonymous", "member"])
def visitor(request, client):
    """Anonymous visitors are served the page stored for them; signed-in members the one stored for members."""
    if request.param == "member":
        client.force_login(UserFactory())
    return client


def directory(client, **params) -> str:
    response = client.get(reverse("members:directory"), params)
    assert response.status_code == 200
    return response.content.decode()


def names(client, **params) -> list[str]:
    return [card.name for card in client.get(reverse("members:directory"), params).context["page"]]


def test_an_organisation_saved_through_the_orm_shows_on_the_next_request(visitor, django_capture_on_commit_callbacks):
    organisation = member_organisation_create(name="Gammelt Navn", city="Vejle")
    assert "Gammelt Navn" in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        organisation.name = "Nyt Navn"
        organisation.city = "Kolding"
        organisation.save()
    body = directory(visitor)
    assert ("Nyt Navn" in body, "Kolding" in body, "Gammelt Navn" in body, "Vejle" in body) == (
        True,
        True,
        False,
        False,
    )


def test_a_new_logo_shows_on_the_card(visitor, django_capture_on_commit_callbacks):
    organisation = member_organisation_create(name="Logofirma")
    assert "card-logo" not in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        organisation.logo = "logos/logofirma.png"
        organisation.save()
    assert '<img src="/media/logos/logofirma.png" alt="" width="48" height="48"' in directory(visitor)


def test_an_unlisted_organisation_leaves_the_directory(visitor, django_capture_on_commit_callbacks):
    member_organisation_create(name="Alfa")
    beta = member_organisation_create(name="Beta")
    assert names(visitor) == ["Alfa", "Beta"]
    with django_capture_on_commit_callbacks(execute=True):
        beta.listed_in_directory = False
        beta.save()
    assert names(visitor) == ["Alfa"]


def test_a_deleted_organisation_leaves_the_directory(visitor, django_capture_on_commit_callbacks):
    member_organisation_create(name="Alfa")
    beta = member_organisation_create(name="Beta")
    assert names(visitor) == ["Alfa", "Beta"]
    with django_capture_on_commit_callbacks(execute=True):
        beta.delete()
    assert names(visitor) == ["Alfa"]


def test_a_cancelled_membership_saved_through_the_orm_leaves_the_directory(visitor, django_capture_on_commit_callbacks):
    member_organisation_create(name="Alfa")
    beta = member_organisation_create(name="Beta")
    assert names(visitor) == ["Alfa", "Beta"]
    with django_capture_on_commit_callbacks(execute=True):
        membership = Membership.objects.get(organisation=beta)
        membership.status = Membership.Status.CANCELLED
        membership.save()
    assert names(visitor) == ["Alfa"]


def test_a_deleted_membership_leaves_the_directory_and_a_new_one_returns(visitor, django_capture_on_commit_callbacks):
    member_organisation_create(name="Alfa")
    beta = member_organisation_create(name="Beta")
    membership = Membership.objects.get(organisation=beta)
    assert names(visitor) == ["Alfa", "Beta"]
    with django_capture_on_commit_callbacks(execute=True):
        Membership.objects.filter(pk=membership.pk).get().delete()
    assert names(visitor) == ["Alfa"]
    with django_capture_on_commit_callbacks(execute=True):
        membership.pk = None
        membership.save()
    assert names(visitor) == ["Alfa", "Beta"]


def test_segments_added_and_removed_show_on_the_card(visitor, django_capture_on_commit_callbacks):
    organisation = member_organisation_create(name="Kortfirma")
    medtech, biotech = Segment.objects.get(code="medtech"), Segment.objects.get(code="biotech")
    assert '<span class="badge">' not in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        organisation.segments.add(medtech, biotech)
    assert '<p><span class="badge">Biotek</span> <span class="badge">Medico</span> </p>' in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        organisation.segments.remove(biotech)
    assert '<p><span class="badge">Medico</span> </p>' in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        medtech.organisations.clear()
    assert '<span class="badge">' not in directory(visitor)


def test_a_segment_renamed_through_the_orm_shows_on_cards_and_filters(visitor, django_capture_on_commit_callbacks):
    segment = Segment.objects.get(code="medtech")
    member_organisation_create(name="Kortfirma").segments.add(segment)
    assert '<span class="badge">Medico</span>' in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        segment.name_da = "Medicoteknik"
        segment.save()
    body = directory(visitor)
    assert (
        '<span class="badge">Medicoteknik</span>' in body,
        '<option value="medtech">Medicoteknik</option>' in body,
        "Medico<" in body,
    ) == (True, True, False)


def test_a_hub_renamed_through_the_orm_shows_on_cards_and_filters(visitor, django_capture_on_commit_callbacks):
    hub = Hub.objects.get(slug="aarhus")
    member_organisation_create(name="Kortfirma", hub=hub)
    assert "Virksomhed · Aarhus · Aarhus</p>" in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        hub.name_da = "Østjylland"
        hub.save()
    body = directory(visitor)
    assert ("Virksomhed · Aarhus · Østjylland</p>" in body, '<option value="aarhus">Østjylland</option>' in body) == (
        True,
        True,
    )


def test_a_new_tag_and_the_offers_that_carry_it_show_in_the_tag_filter(visitor, django_capture_on_commit_callbacks):
    organisation = member_organisation_create(name="Billedfirma")
    member_organisation_create(name="Andet")
    assert "billeddannelse" not in directory(visitor)
    with django_capture_on_commit_callbacks(execute=True):
        tag = Tag.objects.create(slug="billeddannelse", name_da="Billeddannelse", name_en="Imaging")
    assert '<option value="billeddannelse">Billeddannelse</option>' in directory(visitor)
    assert names(visitor, tag="billeddannelse") == []
    with django_capture_on_commit_callbacks(execute=True):
        organisation.offer_tags.add(tag)
    assert names(visitor, tag="billeddannelse") == ["Billedfirma"]
    with django_capture_on_commit_callbacks(execute=True):
        organisation.offer_tags.remove(tag)
        organisation.seek_tags.add(tag)
    assert names(visitor, tag="billeddannelse") == ["Billedfirma"]
    with django_capture_on_commit_callbacks(execute=True):
        tag.delete()
    assert "billeddannelse" not in directory(visitor)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: Region.objects.get(code="syddanmark").save(), id="region saved"),
        pytest.param(
            lambda: Hub.objects.get(slug="odense").regions.remove(Region.objects.get(code="syddanmark")),
            id="hub regions changed",
        ),
        pytest.param(lambda: Organisation.objects.get().segments.set([]), id="segments set"),
    ],
)
def test_writes_to_what_the_directory_shows_move_the_generation_on_at_commit(write, django_capture_on_commit_callbacks):
    member_organisation_create(name="Kortfirma").segments.add(Segment.objects.get(code="medtech"))
    cache.set(GENERATION_KEY, 1, timeout=None)
    with django_capture_on_commit_callbacks(execute=True):
        write()
        assert cache.get(GENERATION_KEY) == 1  # a reader before the commit still sees the old rows
    assert cache.get(GENERATION_KEY) > 1


def test_a_write_to_something_the_directory_does_not_show_keeps_the_generation(django_capture_on_commit_callbacks):
    member_organisation_create(name="Kortfirma")
    cache.set(GENERATION_KEY, 1, timeout=None)
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory()
    assert cache.get(GENERATION_KEY) == 1


@pytest.mark.parametrize("rows", [1, 30])
@pytest.mark.parametrize(
    ("signed_in", "queries"),
    [(False, 0), (True, 1)],  # a member's user (the session comes from the cache); nothing else
    ids=["anonymous", "member"],
)
@pytest.mark.parametrize("params", [{}, {"segment": "medtech", "page": "1"}], ids=["first page", "filtered"])
def test_a_cache_hit_costs_the_same_queries_whatever_the_rows(
    client, django_assert_num_queries, rows, signed_in, queries, params
):
    medtech = Segment.objects.get(code="medtech")
    for n in range(rows):
        member_organisation_create(name=f"Firma {n:02d}").segments.add(medtech)
    if signed_in:
        client.force_login(UserFactory())
    client.get(reverse("members:directory"), params)
    with django_assert_num_queries(queries):
        response = client.get(reverse("members:directory"), params)
    assert (response.status_code, response.content.decode().count('<li class="card">')) == (200, rows)


@pytest.mark.parametrize("rows", [1, 30])
def test_a_cold_request_costs_the_same_queries_whatever_the_rows(client, django_assert_num_queries, rows):
    medtech = Segment.objects.get(code="medtech")
    for n in range(rows):
        member_organisation_create(name=f"Firma {n:02d}").segments.add(medtech)
    client.force_login(UserFactory())
    # nothing cached but the session (written to the cache at login): user, filter options (segments, hubs, tags),
    # and the page's rows with the number of matches and each row's segments (on SQLite, which has no arrays, the
    # segments are a query of their own)
    from django.db import connection

    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 6):
        response = client.get(reverse("members:directory"), {"segment": "medtech"})
    assert len(response.context["page"]) == rows


@pytest.mark.parametrize(
    ("page", "shown", "number"),
    [
        ("2", ["Firma 30", "Firma 31"], 2),
        ("9", ["Firma 30", "Firma 31"], 2),
        ("0", ["Firma 30", "Firma 31"], 2),
        ("x", [f"Firma {n:02d}" for n in range(30)], 1),
    ],
)
def test_pages_past_the_end_show_the_last_and_a_bad_number_the_first(client, page, shown, number):
    for n in range(32):
        member_organisation_create(name=f"Firma {n:02d}")
    response = client.get(reverse("members:directory"), {"page": page})
    assert ([card.name for card in response.context["page"]], response.context["page"].number) == (shown, number)
    assert response.context["page"].paginator.count == 32


def test_a_search_without_matches_says_so(client):
    member_organisation_create(name="Alfa")
    body = directory(client, q="zzzqqq")
    assert ('role="status">0 medlemmer fundet</p>' in body, "Ingen medlemmer passer til disse filtre." in body) == (
        True,
        True,
    )


def test_segment_and_hub_filters_find_by_id_what_they_find_by_code(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from members.directory import DirectoryFilters, directory_queryset

    biotech, medtech = Segment.objects.get(code="biotech"), Segment.objects.get(code="medtech")
    aarhus, odense = Hub.objects.get(slug="aarhus"), Hub.objects.get(slug="odense")
    for name, segment, hub in (("Alfa", biotech, aarhus), ("Beta", medtech, aarhus), ("Gamma", biotech, odense)):
        member_organisation_create(name=name, hub=hub).segments.add(segment)
    assert names(client, segment="biotech", hub="aarhus") == ["Alfa"]
    assert names(client, segment="biotech") == ["Alfa", "Gamma"]
    assert names(client, hub="aarhus") == ["Alfa", "Beta"]
    facets = {"segment_ids": {"biotech": biotech.pk}, "hub_ids": {"aarhus": aarhus.pk}}
    filters = DirectoryFilters(segment="biotech", hub="aarhus")
    with CaptureQueriesContext(connection) as queries:
        assert [o.name for o in directory_queryset(filters=filters, facets=facets)] == ["Alfa"]
    assert ('"members_segment"' in queries[0]["sql"], '"hubs_hub"' in queries[0]["sql"]) == (False, False)


@pytest.mark.parametrize("visitor_kind", ["anonymous", "member", None])
def test_a_repeat_visit_reads_the_cache_once_and_a_first_one_twice(monkeypatch, visitor_kind):
    """The generation with the page (or, for a page of one's own, the listing) first; the rest only on a miss."""
    from django.http import QueryDict

    from members import directory as module

    reads = []
    get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys: reads.append(list(keys)) or get_many(keys))
    params = QueryDict("q=firma")
    first = module.DirectoryCache(params=params, language="da", visitor=visitor_kind)
    assert (first.get("page"), first.get("listing"), first.get("facets")) == (None, None, None)
    first.store(listing="the listing")
    if visitor_kind is not None:
        first.store(page=b"the page")
    assert len(reads) == 2  # the first part, then the others together
    reads.clear()
    again = module.DirectoryCache(params=params, language="da", visitor=visitor_kind)
    if visitor_kind is None:
        # no page is stored for such a visitor: asking for one reads nothing
        assert (again.get("page"), again.get("listing")) == (None, "the listing")
    else:
        assert again.get("page") == b"the page"
    assert len(reads) == 1


def test_the_listed_members_query_is_built_once_a_day_and_names_that_day(monkeypatch):
    """A membership that ends today lists its organisation today and not tomorrow, though the query is kept."""
    from datetime import timedelta

    from django.utils import timezone

    from members import directory as module

    built = []
    build = module.organisations_with_benefit
    monkeypatch.setattr(module, "organisations_with_benefit", lambda *a, **k: built.append(k["on"]) or build(*a, **k))
    module._listed.clear()
    today = timezone.localdate()
    ending = member_organisation_create(name="Slutter I Dag")
    Membership.objects.filter(organisation=ending).update(period_end=today)
    member_organisation_create(name="Fortsætter")
    filters = module.DirectoryFilters()
    first = [o.name for o in module.directory_queryset(filters=filters)]
    again = [o.name for o in module.directory_queryset(filters=module.DirectoryFilters(kind="company"))]
    assert (first, again, built) == (["Fortsætter", "Slutter I Dag"], ["Fortsætter", "Slutter I Dag"], [today])
    next_day = today + timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: next_day)
    tomorrow = [o.name for o in module.directory_queryset(filters=filters)]
    assert (tomorrow, built, list(module._listed)) == (["Fortsætter"], [today, next_day], [next_day])


def test_the_filter_fields_mark_what_was_asked_for_and_escape_it(client):
    body = directory(client, q='a"b<c', segment="medtech")
    assert '<input type="text" name="q" value="a&quot;b&lt;c" maxlength="200" id="id_q">' in body
    assert (
        '<div class="field"><label for="id_segment">Segment:</label>\n<select name="segment" id="id_segment">\n'
        '  <option value="">Alle</option>\n  <option value="biotech">Biotek</option>' in body
    )
    assert '<option value="medtech" selected>Medico</option>' in body
    assert '<select name="hub" id="id_hub">\n  <option value="" selected>Alle</option>' in body
    assert body.count(" selected>") == 5  # segment, and "All" for kind, hub, size and tag
    first_visit = directory(client)
    assert '<input type="text" name="q" maxlength="200" id="id_q">' in first_visit
    assert first_visit.count(" selected>") == 5


def test_the_rows_query_compiled_once_per_shape_finds_what_the_orm_finds():
    """Every shape of search (each filter set or not, a segment and a hub known or not), with its values put where
    the stand-ins were, gives the rows and the number of matches that the query built for those values gives."""
    from tests.support.services import require_postgres

    require_postgres()  # SQLite (development) runs the ORM's query each time
    from collections import Counter
    from itertools import product

    from django.http import QueryDict

    from members import directory as module
    from members.services import organisation_search_refresh

    biotech, medtech = Segment.objects.get(code="biotech"), Segment.objects.get(code="medtech")
    aarhus = Hub.objects.get(slug="aarhus")
    tag = Tag.objects.create(slug="sensorer", name_da="Sensorer", name_en="Sensors")
    for n in range(34):
        organisation = member_organisation_create(
            name=f"Firma {n:02d}",
            hub=aarhus if n % 2 else None,
            kind="company" if n % 3 else "university",
            size_band="10-49" if n % 4 else "1-9",
            description="Sensorer til hospitaler" if n % 5 else "Software",
        )
        organisation.segments.add(biotech if n % 2 else medtech)
        if n % 3 == 0:
            organisation.offer_tags.add(tag)
    organisation_search_refresh(organisation_ids=Organisation.objects.values_list("pk", flat=True))
    facets = module.directory_facets(cached=module.DirectoryCache(params=QueryDict(), language="da", visitor=None))
    module._rows_sql.clear()
    pages_with_rows = Counter()
    shapes = product(
        ["", "  sensorer  "],
        ["", "biotech", "no-such-segment"],
        ["", "university"],
        ["", "aarhus", "nowhere"],
        ["", "10-49"],
        ["", "sensorer"],
    )
    for q, segment, kind, hub, size_band, tag_slug in shapes:
        filters = module.DirectoryFilters(q=q, segment=segment, kind=kind, hub=hub, size_band=size_band, tag=tag_slug)
        expected = module._card_rows(module.directory_queryset(filters=filters, facets=facets))
        rows_on_page = module._card_rows_query(filters=filters, facets=facets)
        for number in (1, 2):
            found = [(o.name, o.matches) for o in rows_on_page(number)]
            wanted = [(o.name, o.matches) for o in expected[(number - 1) * 30 : number * 30]]
            assert found == wanted, (filters, number)
            pages_with_rows[number] += bool(found)
    assert len(module._rows_sql) == 2 * 3 * 2 * 3 * 2 * 2
    assert (pages_with_rows[1], pages_with_rows[2]) == (64, 1)  # searches that match something; two pages unfiltered


def test_a_cold_visit_stores_its_listing_and_its_page_in_one_round_trip(client, monkeypatch):
    member_organisation_create(name="Et Firma")
    directory(client)  # the filter options are stored on the first visit
    writes = []
    set_many = cache.set_many
    monkeypatch.setattr(cache, "set_many", lambda data, **kw: writes.append(sorted(data)) or set_many(data, **kw))
    monkeypatch.setattr(cache, "set", lambda *args, **kwargs: writes.append(args[0]))
    assert "Et Firma" in directory(client, kind="company")
    assert [[key.split(":")[2] for key in keys] for keys in writes] == [["listing", "page"]]
    assert "Et Firma" in directory(client, kind="company")  # and served from there
    assert len(writes) == 1


def test_a_page_stored_by_one_release_is_not_served_by_the_next(client, monkeypatch):
    """A stored page names its release's hashed static files, which the next release does not serve: after a
    deployment (another manifest) the page is rendered afresh; the cards stored with it are still used."""
    from members import directory as module

    member_organisation_create(name="Et Firma")
    monkeypatch.setattr(module, "release", lambda: "release-1")
    directory(client)
    monkeypatch.setattr(module, "release", lambda: "release-2")
    writes = []
    set_many = cache.set_many
    monkeypatch.setattr(cache, "set_many", lambda data, **kw: writes.append(sorted(data)) or set_many(data, **kw))
    assert "Et Firma" in directory(client)
    assert [[key.split(":")[2:4] for key in keys] for keys in writes] == [[["page", "release-2"]]]


def test_the_release_is_named_by_the_static_manifest(monkeypatch):
    from members import directory as module

    manifests = iter([{}, {"css/site.css": "css/site.abc.css"}, {"css/site.css": "css/site.def.css"}])
    monkeypatch.setattr(module, "_static_names", lambda: next(manifests))
    module.release.cache_clear()
    try:
        assert module.release() == "plain"  # no manifest
        module.release.cache_clear()
        first = module.release()
        assert module.release() == first  # once per process
        module.release.cache_clear()
        assert len(first) == 16 and module.release() not in (first, "plain")
    finally:
        module.release.cache_clear()


@pytest.mark.parametrize("language", ["da", "en"])
def test_cards_from_the_compiled_rows_are_the_cards_of_the_organisations(language):
    """On PostgreSQL a page's rows are read without building model instances; the cards are the same as from the
    organisations themselves: the description in the language asked for or its fallback, the logo's address,
    the hub and the segments."""
    from django.http import QueryDict
    from django.utils import translation

    from members import directory as module
    from tests.support.services import require_postgres

    require_postgres()
    hub = Hub.objects.order_by("pk").first()
    segment = Segment.objects.order_by("pk").first()
    both = member_organisation_create(name="Both", description_da="Dansk tekst", description_en="English text", hub=hub)
    both.segments.add(segment)
    member_organisation_create(name="Danish only", description_da="Kun dansk", description_en="", logo="logos/a b.png")
    member_organisation_create(name="English only", description_da="", description_en="Only English")
    member_organisation_create(name="Neither", description_da="", description_en="", city="Odense")
    with translation.override(language):
        cached = module.DirectoryCache(params=QueryDict(), language=language, visitor=None)
        facets = module.directory_facets(cached=cached)
        filters = module.DirectoryFilters()
        rows = module._card_rows_query(filters=filters, facets=facets)(1)
        organisations = list(module._card_rows(module.directory_queryset(filters=filters, facets=facets)))
        from_rows = module.directory_cards(organisations=rows, facets=facets)
        from_organisations = module.directory_cards(organisations=organisations, facets=facets)
        segment_name = segment.name
    assert from_rows == from_organisations
    excerpts = {card.name: card.excerpt for card in from_rows}
    assert excerpts == {
        "Both": "Dansk tekst" if language == "da" else "English text",
        "Danish only": "Kun dansk",
        "English only": "Only English",
        "Neither": "",
    }
    assert [card.logo_url for card in from_rows if card.name == "Danish only"] == ["/media/logos/a%20b.png"]
    assert [card.segments for card in from_rows if card.name == "Both"] == [(segment_name,)]
