"""The members admin writes through the services: every save, inline row and delete leaves the service's audit row,
the hub follows the region by the service's rule, and a membership is edited under its row lock."""

import threading
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from common.locks import lock_one
from hubs.models import Hub, Region
from members.models import Membership, MembershipType, Organisation, OrganisationRole
from tests.factories import MembershipFactory, OrganisationRoleFactory, UserFactory, member_organisation_create
from tests.support.services import require_postgres

pytestmark = pytest.mark.django_db


def url(model, name, *args):
    return reverse(f"admin:members_{model}_{name}", args=args)


def created_now(prefix=""):
    """The admin forms show each row's creation time as a date and a time field."""
    now = timezone.localtime()
    return {f"{prefix}created_at_0": now.strftime("%Y-%m-%d"), f"{prefix}created_at_1": now.strftime("%H:%M:%S")}


def audit(action):
    return [(entry.actor_id, entry.target_id, entry.data) for entry in AuditEntry.objects.filter(action=action)]


def organisation_form(organisation=None, **overrides):
    data = {
        "name": getattr(organisation, "name", "Ny Virksomhed ApS"),
        "legal_name": getattr(organisation, "legal_name", "Ny Virksomhed ApS"),
        "slug": getattr(organisation, "slug", "ny-virksomhed"),
        "cvr": getattr(organisation, "cvr", ""),
        "kind": "company",
        "size_band": "10-49",
        "country": "DK",
        "listed_in_directory": "on",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    return {**data, **overrides}


def membership_inline(membership, **overrides):
    return {
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": membership.pk,
        "memberships-0-organisation": membership.organisation_id,
        "memberships-0-period_start": membership.period_start.isoformat(),
        "memberships-0-period_end": membership.period_end.isoformat(),
        "memberships-0-membership_type": membership.membership_type_id,
        "memberships-0-size_band": membership.size_band,
        "memberships-0-fee_dkk": membership.fee_dkk,
        **overrides,
    }


def test_adding_an_organisation_in_the_admin_audits_it_and_gives_it_its_regions_hub(staff_client):
    region = Region.objects.get(code="nordjylland")
    response = staff_client.post(url("organisation", "add"), organisation_form(region=region.pk))
    organisation = Organisation.objects.get()
    aalborg = Hub.objects.get(slug="aalborg")
    assert (response.status_code, organisation.hub) == (302, aalborg)
    assert audit("members.organisation.create") == [
        (staff_client.staff.pk, str(organisation.pk), {"hub_id": aalborg.pk})
    ]


def test_changing_an_organisation_in_the_admin_audits_the_fields_through_the_service(staff_client):
    organisation = member_organisation_create(name="Gammelt Navn ApS")
    region = Region.objects.get(code="syddanmark")
    response = staff_client.post(
        url("organisation", "change", organisation.pk),
        organisation_form(organisation, name="Nyt Navn ApS", city="Odense", region=region.pk),
    )
    organisation.refresh_from_db()
    assert response.status_code == 302
    assert (organisation.name, organisation.hub.slug) == ("Nyt Navn ApS", "odense")
    assert audit("members.organisation.update") == [
        (staff_client.staff.pk, str(organisation.pk), {"fields": ["city", "name", "region"]})
    ]


def test_deleting_organisations_in_the_admin_audits_each(staff_client):
    first, second = member_organisation_create(name="Et ApS"), member_organisation_create(name="To ApS")
    staff_client.post(
        url("organisation", "changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes", "membership": "all"},
    )
    assert Organisation.objects.count() == 0
    assert sorted(entry.target_repr for entry in AuditEntry.objects.filter(action="members.organisation.delete")) == [
        "Et ApS",
        "To ApS",
    ]


def test_an_inline_membership_edit_goes_through_the_membership_service(staff_client):
    membership = MembershipFactory()
    organisation = membership.organisation
    response = staff_client.post(
        url("organisation", "change", organisation.pk),
        organisation_form(organisation, **membership_inline(membership, **{"memberships-0-fee_dkk": "9000"})),
    )
    membership.refresh_from_db()
    assert (response.status_code, membership.fee_dkk) == (302, 9000)
    assert audit("members.membership.update") == [(staff_client.staff.pk, str(membership.pk), {"fields": ["fee_dkk"]})]


def test_payment_is_not_editable_inline(staff_client):
    membership = MembershipFactory(status="pending", paid_on=None)
    staff_client.post(
        url("organisation", "change", membership.organisation_id),
        organisation_form(
            membership.organisation, **membership_inline(membership, **{"memberships-0-paid_on": "2020-01-01"})
        ),
    )
    membership.refresh_from_db()
    assert (membership.status, membership.paid_on) == ("pending", None)


def test_an_inline_role_goes_through_the_role_service(staff_client):
    organisation = member_organisation_create(name="Roller ApS")
    person = UserFactory()
    response = staff_client.post(
        url("organisation", "change", organisation.pk),
        organisation_form(
            organisation,
            **{
                "roles-TOTAL_FORMS": "1",
                "roles-0-user": person.pk,
                "roles-0-role": "billing",
                "roles-0-organisation": organisation.pk,
                **created_now("roles-0-"),
            },
        ),
    )
    assert response.status_code == 302
    assert audit("members.role.grant") == [
        (staff_client.staff.pk, str(organisation.pk), {"user_id": person.pk, "role": "billing"})
    ]


def test_the_contacts_admin_grants_and_revokes_through_the_role_service(staff_client):
    organisation = member_organisation_create(name="Kontakt ApS")
    person = UserFactory()
    staff_client.post(
        url("organisationrole", "add"),
        {"organisation": organisation.pk, "user": person.pk, "role": "member", **created_now()},
    )
    role = OrganisationRole.objects.get()
    staff_client.post(url("organisationrole", "delete", role.pk), {"post": "yes"})
    expected = [(staff_client.staff.pk, str(organisation.pk), {"user_id": person.pk, "role": "member"})]
    assert (audit("members.role.grant"), audit("members.role.revoke")) == (expected, expected)
    assert OrganisationRole.objects.count() == 0


def test_an_export_is_audited_through_the_service(staff_client):
    role = OrganisationRoleFactory(role="billing")
    staff_client.post(url("organisationrole", "changelist"), {"action": "export_csv", "_selected_action": [role.pk]})
    assert audit("members.export.contacts") == [(staff_client.staff.pk, "", {"rows": 1})]


def test_changing_a_membership_in_the_admin_audits_the_fields(staff_client):
    membership = MembershipFactory(fee_dkk=7500)
    new_end = membership.period_end + timedelta(days=30)
    response = staff_client.post(
        url("membership", "change", membership.pk),
        {
            "organisation": membership.organisation_id,
            "period_start": membership.period_start.isoformat(),
            "period_end": new_end.isoformat(),
            "membership_type": membership.membership_type_id,
            "size_band": membership.size_band,
            "fee_dkk": "8000",
            "note": "F-17",
        },
    )
    membership.refresh_from_db()
    assert response.status_code == 302
    assert (membership.period_end, membership.fee_dkk, membership.note) == (new_end, 8000, "F-17")
    assert audit("members.membership.update") == [
        (staff_client.staff.pk, str(membership.pk), {"fields": ["fee_dkk", "note", "period_end"]})
    ]


def test_adding_a_membership_in_the_admin_audits_its_period(staff_client):
    organisation = member_organisation_create(name="Ny Periode ApS")
    staff_client.post(
        url("membership", "add"),
        {
            "organisation": organisation.pk,
            "membership_type": MembershipType.objects.get(slug="company").pk,
            "period_start": "2040-01-01",
            "period_end": "2040-12-31",
            "fee_dkk": "100",
        },
    )
    membership = Membership.objects.get(period_start="2040-01-01")
    assert audit("members.membership.create") == [
        (staff_client.staff.pk, str(membership.pk), {"period_start": "2040-01-01", "period_end": "2040-12-31"})
    ]
    assert AuditEntry.objects.get(action="members.membership.create").target_type == ContentType.objects.get_for_model(
        Membership
    )


def test_membership_update_refuses_status_and_payment():
    from members.services import MembersError, membership_update

    membership = MembershipFactory(status="pending", paid_on=None)
    with pytest.raises(MembersError) as refused:
        membership_update(membership=membership, changes={"status": "active", "fee_dkk": 1}, by=None)
    assert str(refused.value) == "Disse felter ændres kun med medlemskabets handlinger: status."
    membership.refresh_from_db()
    assert (membership.status, membership.fee_dkk) == ("pending", 7500)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_membership_edit_waits_for_the_membership_lock_and_answers_busy_when_it_is_held(staff_client, settings):
    require_postgres()
    settings.DB_LOCK_TIMEOUT_MS = 50
    membership = MembershipFactory(fee_dkk=7500)
    data = {
        "organisation": membership.organisation_id,
        "membership_type": membership.membership_type_id,
        "size_band": membership.size_band,
        "period_start": membership.period_start.isoformat(),
        "period_end": membership.period_end.isoformat(),
        "fee_dkk": "8000",
    }
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_one(Membership.objects.all(), pk=membership.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        response = staff_client.post(url("membership", "change", membership.pk), data)
    finally:
        release.set()
        holder.join(10)
    membership.refresh_from_db()
    assert (response.status_code, membership.fee_dkk) == (503, 7500)
    assert audit("members.membership.update") == []
    response = staff_client.post(url("membership", "change", membership.pk), data)
    membership.refresh_from_db()
    assert (response.status_code, membership.fee_dkk) == (302, 8000)


def test_memberships_whose_invoice_went_through_every_reminder_are_flagged_for_staff(staff_client):
    from django.utils import timezone

    from billing.models import Invoice
    from tests.support.billing import invoice_issued

    flagged, reminded_paid, quiet = (MembershipFactory() for _ in range(3))
    for membership in (flagged, reminded_paid, quiet):
        membership.invoice = invoice_issued()
        membership.save(update_fields=["invoice"])
    Invoice.objects.filter(pk__in=[flagged.invoice_id, reminded_paid.invoice_id]).update(flagged_at=timezone.now())
    Invoice.objects.filter(pk=reminded_paid.invoice_id).update(status="paid")
    response = staff_client.get("/en/admin/members/membership/?dunning=flagged")
    assert [row.pk for row in response.context["cl"].result_list] == [flagged.pk]
    assert response.content.decode().count('alt="True"') == 1
