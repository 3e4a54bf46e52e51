"""Fixtures for the members tests: staff with a second factor, hub staff, company users."""

import pytest
from django.contrib.auth.models import Group

from hubs.models import Hub
from tests.factories import OrganisationRoleFactory, UserFactory, member_organisation_create, staff_totp_activate


@pytest.fixture
def hub_staff_client(client):
    user = UserFactory(email="aarhus@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Hub staff"))
    Hub.objects.get(slug="aarhus").staff.add(user)
    staff_totp_activate(user)
    client.force_login(user)
    client.staff = user
    return client


@pytest.fixture
def org_admin():
    """A member organisation and its admin."""
    organisation = member_organisation_create(name="Nordlys Medico ApS", slug="nordlys-medico")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    return organisation, admin


@pytest.fixture(autouse=True)
def _danish_urls():
    """reverse() follows the thread's active language, which an earlier /en/ request may have left behind."""
    from django.utils import translation

    translation.activate("da")
    yield
    translation.activate("da")
