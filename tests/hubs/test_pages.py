"""Regions and hubs: the data migration, the public pages in both languages, and the admin with translations."""

import importlib

import pytest
from django.apps import apps
from django.utils import translation

from hubs.models import Hub, Region
from tests.factories import UserFactory

load = importlib.import_module("hubs.migrations.0002_regions_and_hubs").load

pytestmark = pytest.mark.django_db


def test_migration_loads_the_five_regions():
    Hub.objects.all().delete()
    Region.objects.all().delete()
    with translation.override("da"):
        load(apps, None)
    assert sorted(Region.objects.values_list("name_en", flat=True)) == [
        "Capital Region of Denmark",
        "Central Denmark Region",
        "North Denmark Region",
        "Region Zealand",
        "Region of Southern Denmark",
    ]


def test_migration_loads_four_hubs_with_copenhagen_as_headquarters():
    Hub.objects.all().delete()
    with translation.override("da"):
        load(apps, None)
    assert list(Hub.objects.values_list("slug", "is_headquarters")) == [
        ("copenhagen", True),
        ("aarhus", False),
        ("odense", False),
        ("aalborg", False),
    ]


def test_hub_list_in_danish(client):
    response = client.get("/da/hubs/")
    assert response.status_code == 200
    assert "<h1>Regionale hubs</h1>" in response.text
    assert '<a href="/da/hubs/copenhagen/">København</a>' in response.text
    assert "<li>Region Hovedstaden</li>" in response.text


def test_hub_list_in_english(client):
    response = client.get("/en/hubs/")
    assert response.status_code == 200
    assert "<h1>Regional hubs</h1>" in response.text
    assert '<a href="/en/hubs/copenhagen/">Copenhagen</a>' in response.text
    assert "<li>Capital Region of Denmark</li>" in response.text


def test_hub_detail_in_danish(client):
    response = client.get("/da/hubs/aarhus/")
    assert response.status_code == 200
    assert "Hubben for Midtjylland" in response.text
    assert "<dd>Region Midtjylland</dd>" in response.text
    assert '<a href="mailto:aarhus@dlsc.example">aarhus@dlsc.example</a>' in response.text


def test_hub_detail_in_english(client):
    response = client.get("/en/hubs/aalborg/")
    assert response.status_code == 200
    assert "The hub for North Denmark" in response.text
    assert "<dd>Niels Jernes Vej 10, 9220 Aalborg East</dd>" in response.text


def test_unknown_hub_answers_404(client):
    assert client.get("/da/hubs/esbjerg/").status_code == 404


def test_hub_list_queries_do_not_grow_with_hubs(client, django_assert_num_queries):
    Hub.objects.exclude(slug="copenhagen").delete()
    with django_assert_num_queries(2):
        assert client.get("/en/hubs/").status_code == 200
    for number in range(6):
        hub = Hub.objects.create(slug=f"extra-{number}", name=f"Extra {number}", city="Vejle")
        hub.regions.set(Region.objects.all())
    with django_assert_num_queries(2):
        assert client.get("/en/hubs/").status_code == 200


def test_home_page_queries_do_not_grow_with_hubs(client, django_assert_num_queries):
    # hubs, their regions, and the upcoming events
    with django_assert_num_queries(3):
        assert client.get("/da/").status_code == 200
    for number in range(6):
        Hub.objects.create(slug=f"extra-{number}", name=f"Extra {number}", city="Vejle")
    with django_assert_num_queries(3):
        assert client.get("/da/").status_code == 200


def test_hub_admin_change_form_has_both_languages(staff_client):
    hub = Hub.objects.get(slug="odense")
    response = staff_client.get(f"/da/admin/hubs/hub/{hub.pk}/change/")
    assert response.status_code == 200
    assert 'name="name_da"' in response.text
    assert 'name="name_en"' in response.text
    assert 'name="description_en"' in response.text


def test_hub_admin_changelist_lists_the_hubs(staff_client):
    response = staff_client.get("/en/admin/hubs/hub/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 4


def test_hub_admin_offers_only_staff_users_as_hub_staff(staff_client):
    member = UserFactory(email="member@example.com")
    hub = Hub.objects.get(slug="aarhus")
    response = staff_client.get(f"/en/admin/hubs/hub/{hub.pk}/change/")
    choices = {str(user) for user in response.context["adminform"].form.fields["staff"].queryset}
    assert str(member) not in choices
    assert len(choices) == 1


def test_renaming_a_hub_in_the_admin_refreshes_the_member_directory(staff_client, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from members.directory import GENERATION_KEY

    hub = Hub.objects.get(slug="odense")
    cache.set(GENERATION_KEY, "before", timeout=None)
    data = {
        "slug": hub.slug,
        "name_da": "Odense og Fyn",
        "name_en": "Odense and Funen",
        "description_da": hub.description_da,
        "description_en": hub.description_en,
        "address_da": hub.address_da,
        "address_en": hub.address_en,
        "city": hub.city,
        "contact_email": hub.contact_email,
        "regions": [region.pk for region in hub.regions.all()],
        "ordering": hub.ordering,
        "contacts-TOTAL_FORMS": 0,
        "contacts-INITIAL_FORMS": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/da/admin/hubs/hub/{hub.pk}/change/", data)
    assert response.status_code == 302
    assert Hub.objects.get(pk=hub.pk).name_en == "Odense and Funen"
    assert cache.get(GENERATION_KEY) != "before"
