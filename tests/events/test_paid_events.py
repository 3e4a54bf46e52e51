"""Paid events: a confirmed seat is invoiced to the participant's organisation (member price for a member) or to
the guest, by a worker after the seat's commit; a cancellation before the deadline, or the event's cancellation,
is credited in full; a sweep settles what a lost publish left undone."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from billing.models import Invoice
from events import billing as event_billing
from events import services
from events.models import Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, OrganisationFactory
from tests.support.mail import rendered

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def later(monkeypatch):
    """What the seat services hand to the worker after their commit (the publish itself is tested elsewhere)."""
    handed = []
    monkeypatch.setattr(services, "registration_billing_later", lambda ids: handed.extend(ids))
    return handed


def guest(event, n=1, **extra):
    return services.registration_create(
        event=event, full_name=f"Gæst Nummer {n}", email=f"guest{n}@example.com", language="en", **extra
    )


def test_a_guest_is_invoiced_after_the_commit_never_under_the_lock(later):
    event = EventFactory(title_en="Clinical trials day", price_dkk=450, member_price_dkk=200)
    registration = guest(event)
    assert (later, Invoice.objects.count()) == ([registration.pk], 0)
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    line = invoice.lines.get()
    assert (invoice.number, invoice.category, invoice.hub_id, invoice.customer_key) == (
        f"F{timezone.localdate().year}-00001",
        "event",
        event.hub_id,
        f"registration:{registration.pk}",
    )
    assert (invoice.buyer_name, invoice.buyer_email, invoice.language) == (
        "Gæst Nummer 1",
        "guest1@example.com",
        "en",
    )
    when = timezone.localtime(event.starts_at).strftime("%d/%m/%Y")
    assert line.description == f"Clinical trials day, {when}: participation of Gæst Nummer 1"
    assert (line.unit_price, invoice.net_total, invoice.vat_total, invoice.gross_total) == (
        Decimal("450.00"),
        Decimal("450.00"),
        Decimal("112.50"),
        Decimal("562.50"),
    )
    assert invoice.pdf.name.endswith(f"{invoice.number}.pdf")
    mail = OutboxMessage.objects.get(dedupe_key=f"billing:invoice:{invoice.pk}:issued")
    assert (mail.to, mail.attachments[0]["filename"]) == ("guest1@example.com", f"{invoice.number}.pdf")
    # Settling again issues nothing new.
    assert event_billing.registration_billing_settle(registration_id=registration.pk).pk == invoice.pk
    assert Invoice.objects.count() == 1


def test_a_member_pays_the_member_price_and_is_invoiced_as_the_organisation(later):
    event = EventFactory(price_dkk=450, member_price_dkk=200)
    organisation = OrganisationFactory(legal_name="Medico Nord ApS", billing_email="bogholderi@medico.example")
    registration = guest(event, organisation=organisation, is_member=True)
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_cvr, invoice.gross_total) == (
        "Medico Nord ApS",
        "bogholderi@medico.example",
        organisation.cvr,
        Decimal("250.00"),
    )
    assert invoice.customer_key == f"organisation:{organisation.pk}"


def test_a_non_member_company_pays_the_full_price(later):
    event = EventFactory(price_dkk=450, member_price_dkk=200)
    organisation = OrganisationFactory(legal_name="Not Yet A Member A/S")
    registration = guest(event, organisation=organisation, is_member=False)
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    assert (invoice.buyer_name, invoice.gross_total) == ("Not Yet A Member A/S", Decimal("562.50"))


def test_free_seats_are_never_invoiced(later):
    free = EventFactory(price_dkk=0)
    members_free = EventFactory(price_dkk=450, member_price_dkk=0)
    assert event_billing.registration_billing_settle(registration_id=guest(free, 1).pk) is None
    member = guest(members_free, 2, organisation=OrganisationFactory(), is_member=True)
    assert event_billing.registration_billing_settle(registration_id=member.pk) is None
    assert later == [member.pk]  # asked, and found nothing owed
    assert Invoice.objects.count() == 0


def test_the_waitlist_is_invoiced_only_when_promoted(later):
    event = EventFactory(price_dkk=300, capacity=1)
    first = guest(event, 1)
    waiting = guest(event, 2)
    assert (waiting.status, later) == ("waitlisted", [first.pk])
    assert event_billing.registration_billing_settle(registration_id=waiting.pk) is None
    services.registration_cancel(registration=first)
    assert later == [first.pk, first.pk, waiting.pk]
    invoice = event_billing.registration_billing_settle(registration_id=waiting.pk)
    assert (invoice.buyer_name, invoice.gross_total) == ("Gæst Nummer 2", Decimal("375.00"))


def test_a_cancellation_before_the_deadline_is_credited_in_full(later):
    event = EventFactory(price_dkk=450, cancellation_deadline=timezone.now() + timedelta(days=7))
    registration = guest(event)
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    services.registration_cancel(registration=registration)
    note = event_billing.registration_billing_settle(registration_id=registration.pk)
    invoice.refresh_from_db()
    assert (note.kind, note.number, note.gross_total, note.credited_invoice_id, invoice.status) == (
        "credit_note",
        f"K{timezone.localdate().year}-00001",
        Decimal("562.50"),
        invoice.pk,
        "credited",
    )
    assert note.credit_reason == "Registration cancelled before the deadline."
    assert OutboxMessage.objects.filter(dedupe_key=f"billing:invoice:{note.pk}:issued").count() == 1
    assert event_billing.registration_billing_settle(registration_id=registration.pk) is None  # credited once


def test_a_cancellation_after_the_deadline_leaves_the_invoice_standing(later, client):
    event = EventFactory(price_dkk=450, cancellation_deadline=timezone.now() - timedelta(hours=1))
    registration = guest(event)
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    token = services.registration_token(registration)
    page = client.get(f"/en/events/registration/{token}/cancel/").content.decode()
    assert "Free cancellation ended on" in page and "your invoice for this event stands." in page
    services.registration_cancel(registration=registration)
    assert event_billing.registration_billing_settle(registration_id=registration.pk) is None
    invoice.refresh_from_db()
    assert (invoice.status, Invoice.objects.filter(kind="credit_note").count()) == ("issued", 0)


def test_a_cancelled_event_credits_every_invoiced_seat(later):
    event = EventFactory(price_dkk=450, cancellation_deadline=timezone.now() - timedelta(days=1))
    registrations = [guest(event, n) for n in range(3)]
    for registration in registrations:
        event_billing.registration_billing_settle(registration_id=registration.pk)
    services.event_cancel(event=event, actor=None, reason="Venue closed")
    assert later[-3:] == [r.pk for r in registrations]
    notes = [event_billing.registration_billing_settle(registration_id=r.pk) for r in registrations]
    assert [note.credit_reason for note in notes] == ["The event was cancelled."] * 3
    assert set(Invoice.objects.filter(kind="invoice").values_list("status", flat=True)) == {"credited"}


def test_the_sweep_settles_what_a_lost_publish_left_undone(later):
    event = EventFactory(price_dkk=100)
    registrations = [guest(event, n) for n in range(2)]
    assert Invoice.objects.count() == 0
    assert event_billing.paid_registrations_sweep() == 2
    assert sorted(Invoice.objects.values_list("origin", flat=True)) == sorted(
        f"registration:{r.pk}" for r in registrations
    )
    assert event_billing.paid_registrations_sweep() == 0


def test_the_event_page_states_both_prices_and_the_deadline(client):
    event = EventFactory(price_dkk=1450, member_price_dkk=200)
    with translation.override("en"):
        page = client.get(f"/en/events/{event.slug}/").content.decode()
    assert "DKK 1,450 plus VAT for non-members;" in page
    assert "DKK 200 plus VAT for members." in page
    assert "An invoice follows your confirmation." in page
    assert Registration.objects.count() == 0


def paid_event(**extra):
    starts_at = timezone.make_aware(datetime(2027, 3, 10, 9, 0))
    deadline = timezone.make_aware(datetime(2027, 3, 1, 12, 0))
    defaults = {"price_dkk": 1450, "member_price_dkk": 200, "cancellation_deadline": deadline}
    return EventFactory(starts_at=starts_at, ends_at=starts_at + timedelta(hours=6), **(defaults | extra))


def confirmation(registration) -> str:
    message = OutboxMessage.objects.get(to=registration.email, template="events/email/registration_confirmed")
    return rendered(message).body_text


def test_the_confirmation_states_the_price_with_and_without_vat_and_the_free_cancellation_deadline(later):
    event = paid_event()
    body = confirmation(guest(event))
    assert (
        "Event page: http://127.0.0.1:8000/en/events/" + event.slug + "/\n\n"
        "Price: DKK 1,450 plus VAT (DKK 1,812.50 including VAT). The invoice follows in a separate mail.\n"
        "Cancel by 1 March, 12:00 and the invoice is credited in full; after that it stands.\n\n"
        "See or cancel your registration:"
    ) in body
    organisation = OrganisationFactory()
    member = services.registration_create(
        event=event, full_name="Mia", email="mia@example.com", language="da", organisation=organisation, is_member=True
    )
    assert (
        "Pris: 200 kr. plus moms (250 kr. inklusive moms). Fakturaen følger i en separat mail.\n"
        "Afmelder du senest 1. marts, 12:00, krediteres fakturaen fuldt ud; derefter står den ved magt.\n"
    ) in confirmation(member)


def test_a_free_seat_and_a_waitlisted_one_are_told_no_price(later):
    free = EventFactory(price_dkk=0)
    assert "Price:" not in confirmation(guest(free))
    members_free = paid_event(capacity=1, member_price_dkk=0)
    member = services.registration_create(
        event=members_free, full_name="Mia", email="mia@example.com", language="en", is_member=True
    )
    assert "Price:" not in confirmation(member)
    waiting = guest(members_free, 2)
    assert waiting.status == "waitlisted"
    assert "Price:" not in OutboxMessage.objects.get(to=waiting.email).body_text
    services.registration_cancel(registration=member)
    promoted = OutboxMessage.objects.get(to=waiting.email, template="events/email/registration_promoted")
    assert "Price: DKK 1,450 plus VAT (DKK 1,812.50 including VAT)." in promoted.body_text


def test_the_sign_up_form_says_what_the_seat_costs_and_that_members_pay_less(client):
    event = paid_event()
    with translation.override("en"):
        page = client.get(f"/en/events/{event.slug}/").content.decode()
    assert (
        "Your seat costs DKK 1,450 plus VAT (DKK 1,812.50 including VAT), invoiced when your seat is confirmed."
    ) in page
    login = f"/en/accounts/login/?next=%2Fen%2Fevents%2F{event.slug}%2F"
    assert f'Members pay less: <a href="{login}">log in</a> first.' in page
    with translation.override("da"):
        page = client.get(f"/da/events/{event.slug}/").content.decode()
    assert "Din plads koster 1.450 kr. plus moms (1.812,50 kr. inklusive moms)" in page
    assert Registration.objects.count() == 0


def signup(client, event, **fields):
    data = {
        "full_name": "Gry Gæst",
        "email": "gry@example.com",
        "organisation_name": "Gry Consult ApS",
        "consent": "on",
        **fields,
    }
    return client.post(f"/en/events/{event.slug}/register/", data)


ADDRESS = {"invoice_address": "Nørregade 7", "invoice_postcode": "8000", "invoice_city": "Aarhus C"}


def test_a_guest_on_a_paid_seat_gives_an_invoice_address_that_the_invoice_carries(client, later):
    event = paid_event()
    with translation.override("en"):
        page = client.get(f"/en/events/{event.slug}/").content.decode()
    labels = {"invoice_address": "Invoice address", "invoice_postcode": "Postcode", "invoice_city": "City"}
    labels["invoice_cvr"] = "CVR number"
    assert [name for name, label in labels.items() if f'for="id_{name}">{label}' not in page] == []
    assert 'autocomplete="street-address"' in page and 'autocomplete="postal-code"' in page
    assert "we also keep your invoice address, and the invoice itself for the five years" in page
    free = EventFactory(price_dkk=0)
    assert "id_invoice_address" not in client.get(f"/en/events/{free.slug}/").content.decode()
    response = signup(client, event, **ADDRESS, invoice_cvr="")
    assert response.status_code == 302
    registration = Registration.objects.get(email="gry@example.com")
    assert (registration.invoice_address, registration.invoice_postcode, registration.invoice_city) == (
        "Nørregade 7",
        "8000",
        "Aarhus C",
    )
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    assert (invoice.buyer_name, invoice.buyer_address, invoice.buyer_postcode, invoice.buyer_city) == (
        "Gry Gæst",
        "Nørregade 7",
        "8000",
        "Aarhus C",
    )
    assert invoice.buyer_cvr == ""


def test_a_cvr_number_makes_it_the_organisations_invoice(client, later):
    event = paid_event()
    cvr = "13585628"
    response = signup(client, event, **ADDRESS, invoice_cvr=cvr)
    assert response.status_code == 302
    registration = Registration.objects.get(email="gry@example.com")
    invoice = event_billing.registration_billing_settle(registration_id=registration.pk)
    assert (invoice.buyer_name, invoice.buyer_cvr, invoice.buyer_contact_name) == ("Gry Consult ApS", cvr, "Gry Gæst")


@pytest.mark.parametrize(
    ("fields", "field", "message_da"),
    [
        ({**ADDRESS, "invoice_address": ""}, "invoice_address", "Dette felt er påkrævet."),
        ({**ADDRESS, "invoice_city": "   "}, "invoice_city", "Dette felt er påkrævet."),
        ({**ADDRESS, "invoice_cvr": "12345678"}, "invoice_cvr", "Indtast et gyldigt CVR-nummer: otte cifre"),
        (
            {**ADDRESS, "invoice_postcode": "8" * 11},
            "invoice_postcode",
            "Denne værdi må højst have 10 tegn (den har 11).",
        ),
    ],
    ids=["no address", "blank city", "bad cvr", "long postcode"],
)
def test_a_paid_seat_without_a_valid_invoice_address_is_refused_in_danish_and_nothing_is_saved(
    client, later, fields, field, message_da
):
    event = paid_event()
    data = {"full_name": "Gry", "email": "gry@example.com", "organisation_name": "Gry", "consent": "on", **fields}
    response = client.post(f"/da/events/{event.slug}/register/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message_da in errors[field][0]
    assert "Din tilmelding blev ikke gemt" in response.content.decode()
    assert (Registration.objects.count(), later) == (0, [])


def test_a_member_paid_for_by_their_organisation_is_asked_for_no_address(client):
    from tests.factories import OrganisationRoleFactory, member_organisation_create

    event = paid_event()
    organisation = member_organisation_create(name="Medlem ApS")
    user = OrganisationRoleFactory(organisation=organisation, role="member").user
    client.force_login(user)
    page = client.get(f"/en/events/{event.slug}/").content.decode()
    assert "id_invoice_address" not in page
    assert "Your seat costs DKK 200 plus VAT (DKK 250 including VAT)" in page


def test_the_invoice_address_is_in_the_persons_export_and_goes_with_anonymisation(later):
    from events.personal_data import events_collect
    from tests.factories import UserFactory

    user = UserFactory(email="gry@example.com")
    registration = services.registration_create(
        event=paid_event(),
        full_name="Gry",
        email=user.email,
        language="da",
        user=user,
        invoice_address={**ADDRESS, "invoice_cvr": "13585628"},
    )
    exported = events_collect(user)["registrations"][0]
    assert {name: exported[name] for name in (*ADDRESS, "invoice_cvr")} == {**ADDRESS, "invoice_cvr": "13585628"}
    services.registration_anonymise(registration=registration)
    registration.refresh_from_db()
    assert [getattr(registration, name) for name in (*ADDRESS, "invoice_cvr")] == ["", "", "", ""]


def test_retention_anonymises_a_guests_invoice_address_with_the_rest(later):
    from events.retention import registrations_anonymise

    registration = services.registration_create(
        event=paid_event(), full_name="Gry", email="gry@example.com", language="da", invoice_address=ADDRESS
    )
    assert registrations_anonymise(pks=[registration.pk], now=timezone.now()) == 1
    registration.refresh_from_db()
    assert [getattr(registration, name) for name in (*ADDRESS, "full_name")] == ["", "", "", ""]


def test_a_members_paid_sign_up_reads_their_membership_benefits_once(client, later, monkeypatch):
    from events import views
    from members.selectors import user_benefits
    from tests.factories import OrganisationRoleFactory, member_organisation_create

    event = paid_event()
    organisation = member_organisation_create(name="Medlem ApS")
    user = OrganisationRoleFactory(organisation=organisation, role="member").user
    client.force_login(user)
    calls = []
    monkeypatch.setattr(views, "user_benefits", lambda **kwargs: calls.append(kwargs) or user_benefits(**kwargs))
    response = client.post(f"/en/events/{event.slug}/register/", {"consent": "on"})
    assert response.status_code == 302
    registration = Registration.objects.get(user=user)
    assert (registration.status, registration.is_member, registration.organisation) == (
        Registration.Status.CONFIRMED,
        True,
        organisation,
    )
    assert calls == [{"user": user}]
    assert later == [registration.pk]
