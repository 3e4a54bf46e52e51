"""Fixtures for the events tests: a member user (a person acting for an organisation with an active membership)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from members.models import Membership, MembershipType, Organisation, OrganisationRole
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _danish():
    """Requests activate their own language; the code a test runs directly sees Danish, the site's default."""
    with translation.override("da"):
        yield


@pytest.fixture
def member_user(db):
    user = UserFactory(full_name="Mette Medlem", email="mette@medlem.example", preferred_language="da")
    organisation = Organisation.objects.create(slug="medlem-aps", legal_name="Medlem ApS", name="Medlem ApS")
    today = timezone.localdate()
    Membership.objects.create(
        organisation=organisation,
        membership_type=MembershipType.objects.get(slug="company"),
        status=Membership.Status.ACTIVE,
        period_start=today - timedelta(days=30),
        period_end=today + timedelta(days=335),
    )
    OrganisationRole.objects.create(organisation=organisation, user=user, role=OrganisationRole.Role.MEMBER)
    return user
