"""Membership types: fees, benefits the code enforces, billing details, the renewal run and the company admin's
membership page."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from billing.models import Invoice
from events.matchmaking import services as matchmaking_services
from events.models import MatchmakingConfig
from events.services import MembersOnly, registration_create
from members import selectors, services
from members.billing import organisation_buyer
from members.directory import DirectoryFilters, directory_queryset
from members.models import Benefit, Membership, MembershipType, Organisation
from members.personal_data import members_erase
from outbox.models import OutboxMessage
from tests.factories import (
    EventFactory,
    MembershipFactory,
    MembershipTypeFactory,
    OrganisationFactory,
    OrganisationRoleFactory,
    UserFactory,
)
from tests.support.services import require_postgres

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def supporting() -> MembershipType:
    return MembershipType.objects.get(slug="supporting")


# --- Types and fees ---------------------------------------------------------------------------------


def test_the_reference_types_carry_the_company_fees_per_band_and_flat_fees_for_the_others():
    company = MembershipType.objects.get(slug="company")
    fees = {
        band: selectors.membership_fee(membership_type=company, size_band=band, year=2026) for band in ("1-9", "250+")
    }
    assert fees == {"1-9": Decimal("2500.00"), "250+": Decimal("45000.00")}
    public = MembershipType.objects.get(slug="public")
    assert selectors.membership_fee(membership_type=public, size_band="10-49", year=2026) == Decimal("25000.00")
    assert (public.vat_category, supporting().benefits) == ("S", frozenset({"directory"}))


def test_a_year_without_its_own_fees_keeps_the_latest_earlier_years_and_a_band_beats_the_flat_fee():
    kind = MembershipTypeFactory(flat_fee=Decimal("1000"))
    kind.fees.create(year=TODAY.year + 1, size_band="250+", amount=Decimal("9000"))
    assert selectors.membership_fee(membership_type=kind, size_band="250+", year=TODAY.year + 3) == Decimal("9000")
    assert selectors.membership_fee(membership_type=kind, size_band="1-9", year=TODAY.year + 3) == Decimal("1000")
    assert selectors.membership_fee(membership_type=kind, size_band="1-9", year=TODAY.year) == Decimal("1000")
    assert selectors.membership_fee(membership_type=kind, size_band="1-9", year=TODAY.year - 1) is None


# --- Benefits ---------------------------------------------------------------------------------------


def member_with(membership_type):
    membership = MembershipFactory(membership_type=membership_type)
    user = UserFactory()
    OrganisationRoleFactory(organisation=membership.organisation, user=user, role="member")
    return membership.organisation, user


def test_organisation_benefits_come_from_the_membership_in_force():
    organisation, _user = member_with(supporting())
    assert selectors.organisation_benefits(organisation) == frozenset({Benefit.DIRECTORY})
    assert selectors.organisation_benefits(OrganisationFactory()) == frozenset()


def test_a_supporting_member_is_refused_a_members_only_event_on_the_page_and_in_the_service(client):
    _organisation, user = member_with(supporting())
    event = EventFactory(audience="members")
    client.force_login(user)
    response = client.get(event.get_absolute_url())
    assert (response.context["members_only_allowed"], response.context["is_member"]) == (False, False)
    benefits = selectors.user_benefits(user=user)
    with pytest.raises(MembersOnly):
        registration_create(
            event=event,
            full_name="S",
            email=user.email,
            language="da",
            user=user,
            is_member=Benefit.MEMBER_SEATS in benefits,
            members_only_allowed=Benefit.MEMBERS_ONLY_EVENTS in benefits,
        )


def test_a_company_member_gets_members_only_events_and_the_seats_held_for_members(client):
    _organisation, user = member_with(MembershipType.objects.get(slug="company"))
    client.force_login(user)
    response = client.get(EventFactory(audience="members").get_absolute_url())
    assert (response.context["members_only_allowed"], response.context["is_member"]) == (True, True)


def test_seats_held_for_members_follow_the_types_seat_benefit(client):
    _organisation, user = member_with(MembershipTypeFactory(member_seats=False))
    event = EventFactory(capacity=1, member_reserved_seats=1, member_reserved_until=timezone.now() + timedelta(days=2))
    client.force_login(user)
    response = client.get(event.get_absolute_url())
    assert (response.context["is_member"], response.context["seats_left"], response.context["held_for_members"]) == (
        False,
        0,
        True,
    )


def test_the_directory_lists_only_members_whose_type_includes_the_listing():
    listed, _ = member_with(MembershipType.objects.get(slug="company"))
    unlisted, _ = member_with(MembershipTypeFactory(directory_listing=False))
    assert list(directory_queryset(filters=DirectoryFilters()).filter(pk__in=[listed.pk, unlisted.pk])) == [listed]


def test_matchmaking_is_refused_to_a_member_whose_type_excludes_it():
    organisation, user = member_with(supporting())
    event = EventFactory()
    MatchmakingConfig.objects.create(event=event)
    registration = registration_create(
        event=event, full_name="S", email=user.email, language="en", user=user, organisation=organisation
    )
    with translation.override("en"):
        with pytest.raises(matchmaking_services.MatchmakingError) as error:
            matchmaking_services.profile_create(registration=registration)
        assert str(error.value) == "Your organisation's membership type does not include matchmaking."


def test_newsletter_topics_a_type_includes_are_the_members_topics():
    kind = MembershipTypeFactory(newsletter_topics=["members-news"])
    _organisation, user = member_with(kind)
    assert selectors.user_newsletter_topics(user=user) == frozenset({"members-news"})
    assert "members-news" in selectors.member_newsletter_topics()
    assert Benefit.NEWSLETTER_TOPICS in kind.benefits


# --- Billing details and the buyer ------------------------------------------------------------------


def test_the_buyer_carries_the_billing_details_and_falls_back_to_the_first_admins_email():
    organisation = OrganisationFactory(legal_name="Havbrise A/S", po_number="PO-7", buyer_reference="Jens")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin", user__preferred_language="en").user
    buyer = organisation_buyer(organisation=organisation)
    assert (buyer.name, buyer.email, buyer.language, buyer.order_reference, buyer.reference, buyer.customer_key) == (
        "Havbrise A/S",
        admin.email,
        "en",
        "PO-7",
        "Jens",
        f"organisation:{organisation.pk}",
    )
    organisation.billing_email = "faktura@havbrise.example"
    assert organisation_buyer(organisation=organisation, language="da").email == "faktura@havbrise.example"


def test_the_company_admin_saves_valid_billing_details(client):
    organisation = OrganisationFactory()
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    client.force_login(admin)
    response = client.post(
        reverse("members:billing", kwargs={"pk": organisation.pk}),
        {
            "cvr": organisation.cvr,
            "billing_contact_name": "Bogholderiet",
            "billing_email": "faktura@firma.example",
            "ean": "5798000000018",
            "po_number": "PO-1",
            "buyer_reference": "Ref 9",
            "vat_number": "",
        },
    )
    organisation.refresh_from_db()
    assert (response.status_code, organisation.ean, organisation.billing_email) == (
        302,
        "5798000000018",
        "faktura@firma.example",
    )


def test_a_bad_ean_or_cvr_is_refused_with_a_translated_message_and_nothing_is_saved(client):
    organisation = OrganisationFactory(billing_email="")
    admin = OrganisationRoleFactory(organisation=organisation, role="admin").user
    client.force_login(admin)
    response = client.post(
        reverse("members:billing", kwargs={"pk": organisation.pk}),
        {"cvr": "12345678", "billing_email": "ny@firma.example", "ean": "5798000000011"},
    )
    organisation.refresh_from_db()
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "cvr": ["Indtast et gyldigt CVR-nummer: otte cifre med et korrekt kontrolciffer."],
        "ean": ["Angiv et gyldigt EAN-nummer: 13 cifre med korrekt kontrolciffer."],
    }
    assert organisation.billing_email == ""


def test_billing_details_of_a_foreign_organisation_answer_404(client):
    client.force_login(OrganisationRoleFactory(role="admin").user)
    assert client.get(reverse("members:billing", kwargs={"pk": OrganisationFactory().pk})).status_code == 404


def test_the_billing_contacts_name_and_email_are_exported_and_erased_with_their_account():
    user = UserFactory(email="bog@firma.example")
    organisation = OrganisationFactory(billing_contact_name="Bo Bog", billing_email="BOG@firma.example")
    assert selectors.personal_data(user=user)["billing_contact_of"] == [
        {"organisation": organisation.name, "billing_contact_name": "Bo Bog", "billing_email": "BOG@firma.example"}
    ]
    members_erase(user)
    organisation.refresh_from_db()
    assert (organisation.billing_contact_name, organisation.billing_email) == ("", "")


# --- The renewal run --------------------------------------------------------------------------------


def ending_membership(days_left=30, **kwargs):
    start = TODAY + timedelta(days=days_left) - timedelta(days=364)
    membership = MembershipFactory(
        period_start=start, period_end=services.one_year_from(start), fee_dkk=Decimal("7500"), **kwargs
    )
    OrganisationRoleFactory(organisation=membership.organisation, role="admin", user__preferred_language="en")
    return membership


def test_the_run_issues_the_next_periods_invoice_on_the_types_day_with_vat_and_the_period_on_the_line():
    membership = ending_membership(days_left=30)
    not_yet = ending_membership(days_left=31)
    assert services.memberships_renew_due(today=TODAY) == 1
    renewal = Membership.objects.get(
        organisation=membership.organisation, period_start=membership.period_end + timedelta(days=1)
    )
    invoice = renewal.invoice
    line = invoice.lines.get()
    assert (renewal.membership_type.slug, renewal.size_band, renewal.fee_dkk) == ("company", "10-49", Decimal("7500"))
    assert (invoice.origin, invoice.category, invoice.status) == (
        f"membership:{membership.organisation_id}:{renewal.period_start.isoformat()}",
        "membership",
        "issued",
    )
    assert (line.description, line.period_start, line.period_end, line.vat_category) == (
        "Membership of the Danish Life Science Cluster: Company member",
        renewal.period_start,
        renewal.period_end,
        "S",
    )
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("7500.00"),
        Decimal("1875.00"),
        Decimal("9375.00"),
    )
    assert bool(invoice.pdf) is True
    assert OutboxMessage.objects.filter(template="billing/email/invoice", to=invoice.buyer_email).count() == 1
    assert not Membership.objects.filter(
        organisation=not_yet.organisation, period_start__gt=not_yet.period_end
    ).exists()
    assert services.memberships_renew_due(today=TODAY) == 0


def test_an_exempt_type_is_invoiced_without_vat():
    membership = ending_membership(membership_type=MembershipTypeFactory(vat_category="E", flat_fee=Decimal("2000")))
    services.memberships_renew_due(today=TODAY)
    invoice = Invoice.objects.get(origin__startswith=f"membership:{membership.organisation_id}:")
    assert (invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("2000.00"),
        Decimal("0.00"),
        Decimal("2000.00"),
    )


def test_cancelled_and_non_renewing_memberships_are_not_renewed_and_the_next_period_choice_is_used():
    cancelled = ending_membership(cancelled_at=timezone.now())
    manual = ending_membership(membership_type=MembershipTypeFactory(renews_automatically=False))
    changed = ending_membership(next_type=MembershipType.objects.get(slug="company"), next_size_band="250+")
    assert services.memberships_renew_due(today=TODAY) == 1
    renewal = Membership.objects.get(organisation=changed.organisation, period_start__gt=changed.period_end)
    assert (renewal.size_band, renewal.fee_dkk) == ("250+", Decimal("45000.00"))
    assert (
        not Membership.objects.filter(organisation__in=[cancelled.organisation, manual.organisation])
        .exclude(pk__in=[cancelled.pk, manual.pk])
        .exists()
    )


def test_the_reminder_names_the_invoice_that_was_sent():
    membership = ending_membership(days_left=7)
    services.memberships_renew_due(today=TODAY)
    invoice = Membership.objects.get(
        organisation=membership.organisation, period_start__gt=membership.period_end
    ).invoice
    services.membership_renewal_reminders_send(today=TODAY)
    mail = OutboxMessage.objects.get(template="members/email/renewal_reminder")
    assert f"number {invoice.number}, was sent to {invoice.buyer_email}" in mail.body_text


def test_a_paid_invoice_marks_the_membership_paid_on_the_day_it_was_paid():
    membership = ending_membership()
    services.memberships_renew_due(today=TODAY)
    renewal = Membership.objects.get(organisation=membership.organisation, period_start__gt=membership.period_end)
    Invoice.objects.filter(pk=renewal.invoice_id).update(status="paid", paid_at=timezone.now())
    assert services.memberships_paid_sync() == 1
    renewal.refresh_from_db()
    assert renewal.paid_on == TODAY
    assert services.memberships_paid_sync() == 0


def test_approval_issues_the_first_invoice_of_the_chosen_type_and_the_welcome_mail_names_it():
    from members.models import MembershipApplication

    staff = UserFactory(is_staff=True)
    application = MembershipApplication.objects.create(
        legal_name="Ny A/S",
        name="Ny",
        kind="company",
        size_band="50-249",
        membership_type=MembershipType.objects.get(slug="company"),
        contact_name="N",
        contact_email="n@ny.example",
        language="en",
        terms_accepted_at=timezone.now(),
    )
    organisation = services.application_approve(application=application, approved_by=staff)
    membership = organisation.memberships.get()
    assert (membership.membership_type.slug, membership.fee_dkk, membership.invoice.gross_total) == (
        "company",
        Decimal("20000.00"),
        Decimal("25000.00"),
    )
    welcome = OutboxMessage.objects.get(template="members/email/welcome")
    assert f"number {membership.invoice.number}" in welcome.body_text


@pytest.mark.django_db(transaction=True)
def test_two_renewal_runs_at_once_issue_each_invoice_once_with_gapless_numbers():
    require_postgres()
    memberships = [ending_membership(days_left=10 + n) for n in range(6)]
    errors = []

    def run():
        try:
            services.memberships_renew_due(today=TODAY)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    invoices = Invoice.objects.filter(category="membership", year=TODAY.year)
    assert sorted(invoices.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert Membership.objects.filter(invoice__isnull=False).count() == len(memberships)
    assert OutboxMessage.objects.filter(template="billing/email/invoice").count() == 6


# --- The company admin's membership page ------------------------------------------------------------


def admin_of(membership):
    return OrganisationRoleFactory(organisation=membership.organisation, role="admin").user


def test_the_admin_chooses_type_and_size_for_the_next_period(client):
    membership = MembershipFactory()
    client.force_login(admin_of(membership))
    response = client.post(
        reverse("members:membership_next", kwargs={"pk": membership.organisation_id}),
        {"membership_type": MembershipType.objects.get(slug="startup").pk, "size_band": "1-9"},
    )
    membership.refresh_from_db()
    assert (response.status_code, membership.next_type.slug, membership.next_size_band) == (302, "startup", "1-9")


def test_a_type_the_organisations_kind_cannot_hold_is_refused_with_400(client):
    membership = MembershipFactory()
    client.force_login(admin_of(membership))
    response = client.post(
        reverse("members:membership_next", kwargs={"pk": membership.organisation_id}),
        {"membership_type": MembershipType.objects.get(slug="public").pk, "size_band": "1-9"},
    )
    membership.refresh_from_db()
    assert (response.status_code, membership.next_type) == (400, None)


def test_cancelling_within_the_notice_ends_the_membership_with_its_period(client):
    membership = MembershipFactory(period_start=TODAY - timedelta(days=100), period_end=TODAY + timedelta(days=265))
    client.force_login(admin_of(membership))
    response = client.post(reverse("members:membership_cancel", kwargs={"pk": membership.organisation_id}))
    membership.refresh_from_db()
    assert (response.status_code, membership.cancelled_at is not None) == (302, True)
    assert services.memberships_renewal_due(today=membership.period_end - timedelta(days=5)) == []


def test_cancelling_after_the_notice_is_refused_with_a_translated_message(client):
    membership = MembershipFactory(period_start=TODAY - timedelta(days=330), period_end=TODAY + timedelta(days=35))
    client.force_login(admin_of(membership))
    with translation.override("en"):
        response = client.post(reverse("members:membership_cancel", kwargs={"pk": membership.organisation_id}))
    membership.refresh_from_db()
    assert (response.status_code, membership.cancelled_at) == (409, None)
    deadline = membership.period_end - timedelta(days=60)
    assert [str(m) for m in response.context["messages"]] == [
        f"The notice has passed: a cancellation to {membership.period_end:%d/%m/%Y} had to reach us by "
        f"{deadline:%d/%m/%Y}. You can cancel to the end of the next period."
    ]


def test_the_history_shows_periods_types_fees_and_invoices_and_foreign_ids_are_404(client):
    membership = ending_membership()
    services.memberships_renew_due(today=TODAY)
    admin = admin_of(membership)
    client.force_login(admin)
    response = client.get(reverse("members:membership", kwargs={"pk": membership.organisation_id}))
    history = response.context["history"]
    assert [(m.period_start, m.invoice.number if m.invoice else None) for m in history] == [
        (membership.period_end + timedelta(days=1), Invoice.objects.get().number),
        (membership.period_start, None),
    ]
    assert client.get(reverse("members:membership", kwargs={"pk": OrganisationFactory().pk})).status_code == 404
    foreign = reverse("members:membership_cancel", kwargs={"pk": OrganisationFactory().pk})
    assert client.post(foreign).status_code == 404


def test_organisation_kinds_unknown_to_the_model_are_refused():
    kind = MembershipTypeFactory(organisation_kinds=["spaceship"])
    with pytest.raises(Exception) as error:
        kind.full_clean()
    assert "organisation_kinds" in error.value.message_dict
    assert Organisation.Kind.COMPANY in Organisation.Kind.values
