"""The back office: actions that call the services, the status filter, exports, the dashboard and hub scoping."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEntry
from hubs.models import Hub
from members.models import Membership, MembershipApplication, Organisation
from tests.factories import MembershipFactory, OrganisationFactory, OrganisationRoleFactory, member_organisation_create
from tests.members.test_services import submit

pytestmark = pytest.mark.django_db


def changelist(model):
    return reverse(f"admin:members_{model}_changelist")


def test_staff_without_totp_is_sent_to_mfa_setup(client):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    response = client.get(changelist("organisation"))
    assert response.status_code == 302
    assert "/totp/" in response["Location"]


def test_approve_action_confirms_with_a_summary_then_creates_the_member(staff_client):
    application = submit()
    url = changelist("membershipapplication")
    summary = staff_client.post(url, {"action": "approve", "_selected_action": [application.pk]})
    assert summary.status_code == 200
    assert [row["application"] for row in summary.context["rows"]] == [application]
    assert MembershipApplication.objects.get().status == "pending"
    response = staff_client.post(url, {"action": "approve", "_selected_action": [application.pk], "confirm": "yes"})
    assert response.status_code == 302
    assert Organisation.objects.get().name == "Fjordbio"
    assert MembershipApplication.objects.get().status == "approved"


def application_url(name, application):
    return reverse(f"admin:members_membershipapplication_{name}", args=[application.pk])


def test_the_application_page_offers_approve_and_reject(staff_client):
    application = submit()
    body = staff_client.get(application_url("change", application)).content.decode()
    assert f'href="{application_url("approve", application)}"' in body
    assert f'href="{application_url("reject", application)}"' in body


def test_the_approve_page_shows_type_size_fee_hub_and_period_before_approving(staff_client):
    from datetime import timedelta

    from django.utils import timezone

    application = submit(size_band="10-49")
    response = staff_client.get(application_url("approve", application).replace("/da/", "/en/"))
    assert response.status_code == 200
    today = timezone.localdate()
    terms = response.context["rows"][0]
    assert (terms["kind"], terms["size_band"], terms["fee_dkk"], terms["hub"].slug) == (
        "Company",
        "10-49 employees",
        7500,
        "aarhus",
    )
    assert (terms["period_start"], terms["period_end"]) == (today, today.replace(year=today.year + 1) - timedelta(1))
    text = " ".join(response.content.decode().split())
    for shown in ("Company", "10-49 employees", "DKK 7,500", "Aarhus"):
        assert shown in text
    assert MembershipApplication.objects.get().status == "pending"


def test_approving_from_the_page_creates_the_member_and_opens_it(staff_client):
    application = submit()
    response = staff_client.post(application_url("approve", application))
    organisation = Organisation.objects.get()
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("admin:members_organisation_change", args=[organisation.pk]),
    )
    assert MembershipApplication.objects.get().status == "approved"


def test_an_application_already_decided_is_not_approved_again(staff_client):
    application = submit()
    staff_client.post(application_url("approve", application))
    response = staff_client.post(application_url("approve", application))
    assert (response.status_code, response["Location"]) == (302, application_url("change", application))
    assert Organisation.objects.count() == 1


def test_rejecting_from_the_page_needs_a_reason(staff_client):
    application = submit()
    response = staff_client.post(application_url("reject", application), {"reason": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["Dette felt er påkrævet."]
    application.refresh_from_db()
    assert application.status == "pending"
    response = staff_client.post(application_url("reject", application), {"reason": "Uden for feltet"})
    assert (response.status_code, response["Location"]) == (302, application_url("change", application))
    application.refresh_from_db()
    assert (application.status, application.rejection_reason) == ("rejected", "Uden for feltet")


def test_hub_staff_cannot_approve_from_the_page(hub_staff_client):
    application = submit()
    assert hub_staff_client.post(application_url("approve", application)).status_code == 403
    assert MembershipApplication.objects.get().status == "pending"


def test_reject_action_asks_for_a_reason_then_rejects(staff_client):
    application = submit()
    url = changelist("membershipapplication")
    form = staff_client.post(url, {"action": "reject", "_selected_action": [application.pk]})
    assert form.status_code == 200
    assert MembershipApplication.objects.get().status == "pending"
    staff_client.post(url, {"action": "reject", "_selected_action": [application.pk], "reason": "Uden for feltet"})
    application.refresh_from_db()
    assert (application.status, application.rejection_reason) == ("rejected", "Uden for feltet")


def test_mark_paid_action_records_payment_and_audit(staff_client):
    membership = MembershipFactory(status="pending", paid_on=None)
    staff_client.post(changelist("membership"), {"action": "mark_paid", "_selected_action": [membership.pk]})
    membership.refresh_from_db()
    assert (membership.status, membership.paid_on is not None) == ("active", True)
    assert AuditEntry.objects.filter(action="members.membership.paid", actor=staff_client.staff).count() == 1


def test_renew_action_books_the_next_period(staff_client):
    membership = MembershipFactory()
    staff_client.post(changelist("membership"), {"action": "renew", "_selected_action": [membership.pk]})
    assert Membership.objects.filter(organisation=membership.organisation).count() == 2


def test_organisation_list_defaults_to_active_members(staff_client):
    member_organisation_create(name="Aktiv ApS")
    OrganisationFactory(name="Passiv ApS")
    response = staff_client.get(changelist("organisation"))
    assert [o.name for o in response.context["cl"].result_list] == ["Aktiv ApS"]
    assert '<span class="status-badge status-active">' in response.content.decode()


def test_organisation_list_all_filter_shows_everyone(staff_client):
    member_organisation_create(name="Aktiv ApS")
    OrganisationFactory(name="Passiv ApS")
    response = staff_client.get(changelist("organisation"), {"membership": "all"})
    assert sorted(o.name for o in response.context["cl"].result_list) == ["Aktiv ApS", "Passiv ApS"]


def test_export_members_as_csv(staff_client):
    organisation = member_organisation_create(name="Eksport ApS")
    response = staff_client.post(
        changelist("organisation"), {"action": "export_csv", "_selected_action": [organisation.pk]}
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,legal_name,cvr,kind,size_band")
    assert f"{organisation.pk},Eksport ApS,Eksport ApS,{organisation.cvr}," in lines[1]


def test_export_contacts_as_excel(staff_client):
    role = OrganisationRoleFactory(role="billing")
    response = staff_client.post(
        changelist("organisationrole"), {"action": "export_xlsx", "_selected_action": [role.pk]}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0] == ("organisation", "cvr", "name", "email", "role", "language")
    assert rows[1][3:5] == (role.user.email, "billing")


def test_dashboard_on_the_admin_index(staff_client):
    member_organisation_create(name="Dash ApS", size_band="1-9")
    submit()
    body = staff_client.get(reverse("admin:index").replace("/da/", "/en/")).content.decode()
    assert "Members at a glance" in body
    assert '<svg role="img"' in body
    assert "style=" not in body.split("Members at a glance")[1].split("</section>")[0]


def test_hub_staff_sees_only_their_hubs_organisations(hub_staff_client):
    member_organisation_create(name="Aarhus ApS", hub=Hub.objects.get(slug="aarhus"))
    member_organisation_create(name="Odense ApS", hub=Hub.objects.get(slug="odense"))
    response = hub_staff_client.get(changelist("organisation"))
    assert [o.name for o in response.context["cl"].result_list] == ["Aarhus ApS"]


def test_hub_staff_cannot_open_another_hubs_organisation(hub_staff_client):
    other = member_organisation_create(name="Odense ApS", hub=Hub.objects.get(slug="odense"))
    url = reverse("admin:members_organisation_change", args=[other.pk])
    # Django's admin answers an object outside get_queryset() like a missing one: back to the index, saying so.
    response = hub_staff_client.get(url)
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    response = hub_staff_client.post(url, {"name": "Changed"})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    other.refresh_from_db()
    assert other.name == "Odense ApS"


def test_hub_staff_cannot_open_another_hubs_membership(hub_staff_client):
    other = member_organisation_create(name="Odense ApS", hub=Hub.objects.get(slug="odense"))
    membership = other.memberships.get()
    response = hub_staff_client.get(reverse("admin:members_membership_change", args=[membership.pk]))
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))


def test_admin_derives_the_hub_from_the_region(staff_client):
    from hubs.models import Region

    organisation = member_organisation_create(name="Flytter ApS", hub=Hub.objects.get(slug="copenhagen"))
    region = Region.objects.get(code="nordjylland")
    staff_client.post(
        reverse("admin:members_organisation_change", args=[organisation.pk]),
        _change_form(organisation, region=region.pk, hub=organisation.hub_id),
    )
    organisation.refresh_from_db()
    assert organisation.hub.slug == "aalborg"


def test_admin_keeps_a_hub_staff_chose(staff_client):
    from hubs.models import Region

    organisation = member_organisation_create(name="Flytter ApS", hub=Hub.objects.get(slug="copenhagen"))
    region = Region.objects.get(code="nordjylland")
    staff_client.post(
        reverse("admin:members_organisation_change", args=[organisation.pk]),
        _change_form(organisation, region=region.pk, hub=Hub.objects.get(slug="odense").pk),
    )
    organisation.refresh_from_db()
    assert organisation.hub.slug == "odense"


def _change_form(organisation, **overrides):
    data = {
        "name": organisation.name,
        "legal_name": organisation.legal_name,
        "slug": organisation.slug,
        "cvr": organisation.cvr,
        "kind": organisation.kind,
        "size_band": organisation.size_band,
        "country": "DK",
        "listed_in_directory": "on",
        "roles-TOTAL_FORMS": "0",
        "roles-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    return {**data, **overrides}


def test_admin_refuses_a_wrong_cvr_checksum(staff_client):
    organisation = member_organisation_create(name="Tjek ApS")
    response = staff_client.post(
        reverse("admin:members_organisation_change", args=[organisation.pk]), _change_form(organisation, cvr="12345678")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["cvr"]
    organisation.refresh_from_db()
    assert organisation.cvr != "12345678"


def test_admin_refuses_a_duplicate_cvr(staff_client):
    first = member_organisation_create(name="Første ApS")
    second = member_organisation_create(name="Anden ApS")
    response = staff_client.post(
        reverse("admin:members_organisation_change", args=[second.pk]), _change_form(second, cvr=first.cvr)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Der findes allerede en organisation med dette CVR-nummer."
    ]


def test_hub_staff_cannot_approve_applications(hub_staff_client):
    application = submit()
    response = hub_staff_client.post(
        changelist("membershipapplication"), {"action": "approve", "_selected_action": [application.pk]}
    )
    assert response.status_code == 403
    assert MembershipApplication.objects.get().status == "pending"


def test_export_writes_formulas_as_text(staff_client):
    organisation = member_organisation_create(name='=HYPERLINK("http://evil.example")')
    response = staff_client.post(
        changelist("organisation"), {"action": "export_csv", "_selected_action": [organisation.pk]}
    )
    assert '"\'=HYPERLINK(""http://evil.example"")"' in response.content.decode("utf-8-sig")
    assert ',"=HYPERLINK' not in response.content.decode("utf-8-sig")


def test_hub_staff_changes_their_own_hubs_organisation(hub_staff_client):
    own = member_organisation_create(name="Aarhus ApS", hub=Hub.objects.get(slug="aarhus"))
    response = hub_staff_client.post(
        reverse("admin:members_organisation_change", args=[own.pk]),
        _change_form(own, name="Aarhus Nyt Navn ApS", hub=own.hub_id),
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.name == "Aarhus Nyt Navn ApS"
