"""The public member pages and the company admin's pages, with bad input and foreign ids."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import User
from members.models import Invitation, MembershipApplication, Organisation, OrganisationRole
from members.services import invitation_create, invitation_token, organisation_search_refresh
from outbox.models import OutboxMessage
from tests.factories import (
    PASSWORD,
    OrganisationFactory,
    OrganisationRoleFactory,
    UserFactory,
    cvr_valid,
    member_organisation_create,
)

pytestmark = pytest.mark.django_db


def apply_form(**overrides):
    from hubs.models import Region
    from members.models import MembershipType, Segment

    data = {
        "membership_type": MembershipType.objects.get(slug="company").pk,
        "name": "Havbrise Health",
        "legal_name": "Havbrise Health A/S",
        "cvr": cvr_valid(77),
        "kind": "company",
        "country": "DK",
        "size_band": "10-49",
        "segments": [Segment.objects.get(code="medtech").pk],
        "region": Region.objects.get(code="syddanmark").pk,
        "city": "Odense",
        "contact_name": "Hanne Hav",
        "contact_email": "hanne@havbrise.example",
        "password1": "Havbrise-2026-x",
        "password2": "Havbrise-2026-x",
        "accept_terms": "on",
    }
    return {**data, **overrides}


# --- Applying ---------------------------------------------------------------------------------------


def test_apply_creates_a_pending_application_and_sends_verification(client):
    response = client.post(reverse("members:apply"), apply_form())
    assert response.status_code == 302
    application = MembershipApplication.objects.get()
    assert (application.status, application.contact_email, application.language) == (
        "pending",
        "hanne@havbrise.example",
        "da",
    )
    templates = set(OutboxMessage.objects.values_list("template", flat=True))
    assert templates == {"members/email/application_received", "account/email/email_confirmation_signup"}


def test_the_thanks_page_tells_a_new_applicant_to_confirm_the_address_they_gave(client):
    response = client.post(reverse("members:apply"), apply_form(), follow=True)
    text = " ".join(response.content.decode().split())
    assert "Tjek din indbakke hos hanne@havbrise.example" in text
    assert "Hvis du har oprettet en konto" not in text


def test_the_thanks_page_sends_a_signed_in_applicant_to_their_account(client):
    user = UserFactory(email="hanne@havbrise.example")
    client.force_login(user)
    form = apply_form()
    del form["password1"], form["password2"]
    response = client.post(reverse("members:apply"), form, follow=True)
    body = response.content.decode()
    assert "Ansøgningen hører til din konto" in body
    assert f'href="{reverse("accounts:portal")}"' in body
    assert "Tjek din indbakke" not in body


def test_the_account_page_shows_a_pending_application_instead_of_become_a_member(client):
    user = UserFactory(email="hanne@havbrise.example")
    client.force_login(user)
    form = apply_form()
    del form["password1"], form["password2"]
    client.post(reverse("members:apply"), form)
    body = client.get(reverse("accounts:portal")).content.decode()
    section = body.split('id="my-organisations-heading"')[1].split("</section>")[0]
    assert "Havbrise Health" in section
    assert reverse("members:apply") not in section


def test_the_application_form_is_grouped_marks_what_is_required_and_links_the_terms(client):
    response = client.get(reverse("members:apply"))
    form = response.context["form"]
    assert [str(legend) for legend, _ in form.fieldsets()] == [
        "Din organisation",
        "Medlemstype, størrelse og årligt kontingent",
        "Adresse og region",
        "Det arbejder I med",
        "Kontaktperson",
        "Din konto",
        "Vilkår",
    ]
    body = response.content.decode()
    assert body.count('class="required"') == len([f for f in form if f.field.required])
    assert '<option value="DK" selected>Danmark</option>' in body
    assert f'href="{reverse("members:terms")}"' in body
    assert '<td data-label="10-49 ansatte">7.500 kr. om året plus moms</td>' in body


def test_the_application_form_shows_the_chosen_bands_fee_after_a_submit(client):
    response = client.post(reverse("members:apply"), apply_form(name="", size_band="50-249"))
    assert response.status_code == 400
    assert "Årligt kontingent: <strong>20.000 kr. om året plus moms</strong>" in response.content.decode()


def test_the_application_form_refuses_an_unknown_country(client):
    response = client.post(reverse("members:apply"), apply_form(country="XX"))
    assert response.status_code == 400
    assert response.context["form"].errors["country"] == [
        "Marker en gyldig valgmulighed. XX er ikke en af de tilgængelige valgmuligheder."
    ]
    assert MembershipApplication.objects.count() == 0


def test_the_application_refuses_a_type_the_kind_cannot_hold(client):
    from members.models import MembershipApplication, MembershipType

    response = client.post(
        reverse("members:apply"), apply_form(membership_type=MembershipType.objects.get(slug="public").pk)
    )
    assert response.status_code == 400
    assert response.context["form"].errors["membership_type"] == [
        "En organisation af typen Virksomhed kan ikke have denne medlemstype."
    ]
    assert MembershipApplication.objects.count() == 0


def test_the_terms_page_lists_the_fees(client):
    response = client.get(reverse("members:terms").replace("/da/", "/en/"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<td data-label="250+ employees">DKK 45,000 a year plus VAT</td>' in body


def test_apply_with_wrong_cvr_checksum_answers_400(client):
    response = client.post(reverse("members:apply").replace("/da/", "/en/"), apply_form(cvr="12345678"))
    assert response.status_code == 400
    assert response.context["form"].errors["cvr"] == [
        "Enter a valid CVR number: eight digits with a correct check digit."
    ]
    assert MembershipApplication.objects.count() == 0
    assert User.objects.count() == 0


def test_apply_with_a_members_cvr_asks_for_an_invitation_without_naming_the_member(client):
    member_organisation_create(name="Hemmelig Pharma", cvr=cvr_valid(77))
    response = client.post(reverse("members:apply", kwargs={}).replace("/da/", "/en/"), apply_form())
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ask your company&#x27;s admin on the portal to invite you." in body
    assert "Hemmelig Pharma" not in body


def test_apply_without_accepting_terms_answers_400(client):
    form = apply_form()
    del form["accept_terms"]
    assert client.post(reverse("members:apply"), form).status_code == 400
    assert MembershipApplication.objects.count() == 0


def test_apply_filled_honeypot_is_refused(client):
    assert client.post(reverse("members:apply"), apply_form(nickname="bot")).status_code == 400


def test_apply_is_rate_limited(client):
    for n in range(10):
        client.post(reverse("members:apply"), apply_form(cvr="", kind="university", contact_email=f"p{n}@x.example"))
    assert client.post(reverse("members:apply"), apply_form()).status_code == 429


# --- Directory and public pages -------------------------------------------------------------------


def test_directory_lists_only_active_listed_members(client):
    listed = member_organisation_create(name="Synlig ApS")
    member_organisation_create(name="Skjult ApS", listed_in_directory=False)
    OrganisationFactory(name="Ikke Medlem ApS")
    response = client.get(reverse("members:directory"))
    assert [o.name for o in response.context["page"]] == [listed.name]


@pytest.mark.parametrize("rows", [1, 30])
def test_directory_query_count_does_not_grow_with_rows(client, django_assert_num_queries, rows):
    from members.models import Segment

    for n in range(rows):
        organisation = member_organisation_create(name=f"Firma {n:02d}")
        organisation.segments.set(Segment.objects.all()[:2])
    # session-less request, nothing cached: filter options (segments, hubs, tags), and the page's rows with the number
    # of matches and each row's segments (hub and segment names come from the filter options)
    with django_assert_num_queries(4):
        response = client.get(reverse("members:directory"))
    assert len(response.context["page"]) == rows


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.mark.parametrize("rows", [1, 30])
def test_signed_in_directory_is_served_from_the_stored_page_with_the_user_query_alone(
    client, django_assert_num_queries, rows
):
    from members.models import Segment

    for n in range(rows):
        organisation = member_organisation_create(name=f"Firma {n:02d}")
        organisation.segments.set(Segment.objects.all()[:2])
    client.force_login(UserFactory())
    first = client.get(reverse("members:directory")).content.decode()
    # the user alone: the session and the whole page (filters, count, cards, header) come from the cache
    with django_assert_num_queries(1):
        response = client.get(reverse("members:directory"))
    body = response.content.decode()
    assert response.context is None  # not rendered again
    assert body.count('<li class="card">') == rows == first.count('<li class="card">')
    assert "Log ud" in body
    assert CSRF_FIELD.sub("", body) == CSRF_FIELD.sub("", first)


def test_every_signed_in_member_gets_the_stored_page_with_a_csrf_token_of_their_own(client, settings):
    """Only the logout form's token is a visitor's own: another user (staff, here) is served the page the first one
    stored, with a token their logout accepts, and the page is what rendering it afresh gives."""
    from django.core.cache import cache
    from django.test import Client

    member_organisation_create(name="Firma Et")
    client.force_login(UserFactory())
    stored = client.get(reverse("members:directory"), {"q": "firma"}).content.decode()
    other = Client(enforce_csrf_checks=True)
    other.force_login(UserFactory(is_staff=True))
    served = other.get(reverse("members:directory"), {"q": "firma"})
    assert served.context is None
    token = CSRF_FIELD.search(served.content.decode())[1]
    assert token != CSRF_FIELD.search(stored)[1]
    assert CSRF_FIELD.findall(served.content.decode()) == [token]
    cache.clear()
    fresh = other.get(reverse("members:directory"), {"q": "firma"})
    assert fresh.context is not None
    assert CSRF_FIELD.sub("", served.content.decode()) == CSRF_FIELD.sub("", fresh.content.decode())
    logout = other.post(reverse("account_logout"), {"csrfmiddlewaretoken": token})
    assert logout.status_code == 302
    assert "_auth_user_id" not in other.session


def test_a_signed_in_member_with_a_message_waiting_sees_it_on_a_page_rendered_for_them(client):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest, HttpResponse

    member_organisation_create(name="Firma Et")
    client.force_login(UserFactory())
    client.get(reverse("members:directory"))  # the member page is stored
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, "Din profil er gemt.")
    response = HttpResponse()
    storage.update(response)
    client.cookies["messages"] = response.cookies["messages"].value
    page = client.get(reverse("members:directory"))
    assert page.context is not None
    assert "Din profil er gemt." in page.content.decode()
    again = client.get(reverse("members:directory"))
    assert "Din profil er gemt." not in again.content.decode()


def test_directory_card_is_rendered_again_after_the_organisation_changes(client, django_capture_on_commit_callbacks):
    from members.services import organisation_profile_update

    organisation = member_organisation_create(name="Kortfirma", description_da="Gammel beskrivelse")
    client.force_login(UserFactory())
    assert "Gammel beskrivelse" in client.get(reverse("members:directory")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        organisation_profile_update(
            organisation=organisation, data={"description_da": "Ny beskrivelse"}, m2m={}, by=None
        )
    body = client.get(reverse("members:directory")).content.decode()
    assert ("Ny beskrivelse" in body, "Gammel beskrivelse" in body) == (True, False)


def test_directory_card_follows_a_renamed_segment(staff_client, django_capture_on_commit_callbacks):
    from members.models import Segment

    segment = Segment.objects.get(code="medtech")
    member_organisation_create(name="Kortfirma").segments.add(segment)
    assert '<span class="badge">Medico</span>' in staff_client.get(reverse("members:directory")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:members_segment_change", args=[segment.pk]),
            {"name_da": "Medicoteknik", "name_en": "Medical devices", "code": "medtech", "ordering": segment.ordering},
        )
    assert response.status_code == 302
    body = staff_client.get(reverse("members:directory")).content.decode()
    assert ('<span class="badge">Medicoteknik</span>' in body, '<span class="badge">Medico</span>' in body) == (
        True,
        False,
    )


def test_directory_filter_options_follow_a_new_tag(staff_client, django_capture_on_commit_callbacks):
    member_organisation_create(name="Kortfirma")
    assert "billeddannelse" not in staff_client.get(reverse("members:directory")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:members_tag_add"),
            {"slug": "billeddannelse", "name_da": "Billeddannelse", "name_en": "Imaging"},
        )
    assert response.status_code == 302
    body = staff_client.get(reverse("members:directory")).content.decode()
    assert '<option value="billeddannelse">Billeddannelse</option>' in body


def test_directory_cached_count_follows_a_new_member(client, django_capture_on_commit_callbacks):
    member_organisation_create(name="Første")
    client.force_login(UserFactory())
    assert client.get(reverse("members:directory")).context["page"].paginator.count == 1
    with django_capture_on_commit_callbacks(execute=True):
        member_organisation_create(name="Anden")  # straight through the ORM: the receivers follow the models
    assert client.get(reverse("members:directory")).context["page"].paginator.count == 2


def test_directory_filters_by_segment_and_hub(client):
    from hubs.models import Hub
    from members.models import Segment

    aarhus = Hub.objects.get(slug="aarhus")
    wanted = member_organisation_create(name="Medico Aarhus", hub=aarhus)
    wanted.segments.add(Segment.objects.get(code="medtech"))
    other = member_organisation_create(name="Biotek Aarhus", hub=aarhus)
    other.segments.add(Segment.objects.get(code="biotech"))
    response = client.get(reverse("members:directory"), {"segment": "medtech", "hub": "aarhus"})
    assert [o.name for o in response.context["page"]] == ["Medico Aarhus"]


def test_directory_free_text_search(client):
    found = member_organisation_create(name="Robotfirma", description_da="Vi laver robotter til plejehjem")
    member_organisation_create(name="Andet", description_da="Kemi")
    organisation_search_refresh(organisation_ids=[o.pk for o in Organisation.objects.all()])
    response = client.get(reverse("members:directory"), {"q": "plejehjem"})
    assert [o.pk for o in response.context["page"]] == [found.pk]


def test_directory_bad_filter_answers_400(client):
    assert client.get(reverse("members:directory"), {"kind": "spaceship"}).status_code == 400


def test_organisation_page_escapes_markup(client):
    organisation = member_organisation_create(description_da="<script>alert(1)</script> Gode løsninger")
    body = client.get(organisation.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Gode løsninger" in body
    assert "<script>alert(1)" not in body


def test_organisation_page_of_a_non_member_is_404(client):
    organisation = OrganisationFactory()
    assert client.get(organisation.get_absolute_url()).status_code == 404


def test_partners_page_groups_the_founding_partners_by_kind(client):
    response = client.get(reverse("members:partners").replace("/da/", "/en/"))
    groups = {
        group["code"]: [p.short_name or p.name for p in group["partners"]] for group in response.context["groups"]
    }
    assert groups["university"] == ["KU", "DTU", "AAU", "AU", "SDU"]
    assert len(groups) == 6
    assert "Founding partner · since 2020" in response.content.decode()


# --- Company admin pages --------------------------------------------------------------------------


def logo_file(*, fmt="PNG", size=(32, 32), name="logo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def profile_form(organisation, **overrides):
    data = {
        "name": organisation.name,
        "size_band": organisation.size_band,
        "description_da": "Dansk tekst",
        "description_en": "English text",
        "listed_in_directory": "on",
        "save": "1",
    }
    return {**data, **overrides}


def test_admin_edits_the_profile_in_both_languages(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.post(reverse("members:edit", args=[organisation.pk]), profile_form(organisation))
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.description_da, organisation.description_en) == ("Dansk tekst", "English text")


def test_profile_preview_saves_nothing(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    form = profile_form(organisation, preview="1")
    del form["save"]
    response = client.post(reverse("members:edit", args=[organisation.pk]), form)
    assert response.status_code == 200
    assert "English text" in response.content.decode()
    organisation.refresh_from_db()
    assert organisation.description_en is None


def test_profile_accepts_a_small_png_logo(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.post(
        reverse("members:edit", args=[organisation.pk]), profile_form(organisation, logo=logo_file())
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.logo.name.startswith("logos/logo")


def test_profile_refuses_a_non_image_logo(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    fake = SimpleUploadedFile("logo.png", b"not an image at all", content_type="image/png")
    response = client.post(reverse("members:edit", args=[organisation.pk]), profile_form(organisation, logo=fake))
    assert response.status_code == 400
    assert response.context["form"].errors["logo"]


def test_profile_refuses_an_oversized_logo(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    big = logo_file(fmt="BMP", size=(1000, 1000), name="logo.png")
    response = client.post(reverse("members:edit", args=[organisation.pk]), profile_form(organisation, logo=big))
    assert response.status_code == 400
    assert "1 MB" in str(response.context["form"].errors["logo"])


def logo_previewed(client, organisation) -> str:
    """Preview with a new logo; the pending logo's token the page carries to the save."""
    form = profile_form(organisation, preview="1", logo=logo_file(name="nyt-logo.png"))
    del form["save"]
    response = client.post(reverse("members:edit", args=[organisation.pk]), form)
    assert response.status_code == 200
    return re.search(r'name="logo_pending" value="([^"]+)"', response.content.decode()).group(1)


def test_profile_preview_shows_the_new_logo_from_the_media_url(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    form = profile_form(organisation, preview="1", logo=logo_file(name="nyt-logo.png"))
    del form["save"]
    body = client.post(reverse("members:edit", args=[organisation.pk]), form).content.decode()
    src = re.search(r'<img src="(/media/logos/nyt-logo[^"]*\.png)"', body).group(1)
    assert client.get(src).status_code == 200
    organisation.refresh_from_db()
    assert organisation.logo.name == ""


def test_profile_keeps_the_logo_chosen_at_preview_when_saved(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    token = logo_previewed(client, organisation)
    response = client.post(
        reverse("members:edit", args=[organisation.pk]), profile_form(organisation, logo_pending=token)
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.logo.name.startswith("logos/nyt-logo")
    assert organisation.logo.storage.exists(organisation.logo.name)


def test_profile_refuses_a_pending_logo_token_of_another_organisation(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    token = logo_previewed(client, organisation)
    other = member_organisation_create(name="Anden ApS")
    OrganisationRoleFactory(organisation=other, user=admin, role="admin")
    response = client.post(reverse("members:edit", args=[other.pk]), profile_form(other, logo_pending=token))
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Logoet fra forhåndsvisningen kan ikke bruges. Vælg det igen."
    ]
    other.refresh_from_db()
    assert other.logo.name == ""


def test_admin_invites_a_colleague(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.post(
        reverse("members:invite", args=[organisation.pk]), {"email": "ny@example.com", "role": "member"}
    )
    assert response.status_code == 302
    assert Invitation.objects.get().email == "ny@example.com"
    assert OutboxMessage.objects.get(template="members/email/invitation").to == "ny@example.com"


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("members:manage", "get", None),
        ("members:edit", "get", None),
        ("members:edit", "post", {"name": "Hijacked", "size_band": "1-9", "save": "1"}),
        ("members:invite", "post", {"email": "spy@example.com", "role": "admin"}),
        ("members:export", "get", None),
    ],
)
def test_foreign_organisation_urls_answer_404_and_change_nothing(client, org_admin, name, method, data):
    organisation, _ = org_admin
    outsider = OrganisationRoleFactory(role="admin").user
    client.force_login(outsider)
    response = getattr(client, method)(reverse(name, args=[organisation.pk]), data)
    assert response.status_code == 404
    organisation.refresh_from_db()
    assert organisation.name == "Nordlys Medico ApS"
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("name", ["members:colleague_remove", "members:colleague_role", "members:hand_on"])
def test_foreign_role_urls_answer_404_and_change_nothing(client, org_admin, name):
    organisation, admin = org_admin
    outsider = OrganisationRoleFactory(role="admin").user
    client.force_login(outsider)
    response = client.post(reverse(name, args=[organisation.pk, admin.pk]), {"role": "admin"})
    assert response.status_code == 404
    assert list(OrganisationRole.objects.filter(organisation=organisation).values_list("user", "role")) == [
        (admin.pk, "admin")
    ]


def test_plain_member_cannot_reach_the_admin_pages(client, org_admin):
    organisation, _ = org_admin
    member = OrganisationRoleFactory(organisation=organisation, role="member").user
    client.force_login(member)
    assert client.get(reverse("members:edit", args=[organisation.pk])).status_code == 404


def test_last_admin_removing_themselves_gets_a_clear_409(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.post(reverse("members:colleague_remove", args=[organisation.pk, admin.pk]))
    assert response.status_code == 409
    assert OrganisationRole.objects.filter(organisation=organisation, user=admin).exists()


def test_contacts_export_is_a_csv_of_colleagues(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    response = client.get(reverse("members:export", args=[organisation.pk]).replace("/da/", "/en/"))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == ["Name,Email,Roles", f"{admin.full_name},{admin.email},Admin"]


# --- Invitations ----------------------------------------------------------------------------------


def test_invitation_accepted_by_a_newcomer_logs_them_in(client, org_admin):
    organisation, admin = org_admin
    invitation = invitation_create(organisation=organisation, email="ny@example.com", role="member", invited_by=admin)
    url = reverse("members:invitation", args=[invitation_token(invitation)])
    response = client.post(url, {"full_name": "Ny Person", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="ny@example.com")
    assert OrganisationRole.objects.filter(organisation=organisation, user=user, role="member").exists()
    assert client.get(reverse("accounts:portal")).status_code == 200


def test_invitation_accepted_by_a_logged_in_existing_user(client, org_admin):
    organisation, admin = org_admin
    existing = UserFactory(email="kendt@example.com")
    invitation = invitation_create(
        organisation=organisation, email="kendt@example.com", role="billing", invited_by=admin
    )
    client.force_login(existing)
    response = client.post(reverse("members:invitation", args=[invitation_token(invitation)]))
    assert response.status_code == 302
    assert OrganisationRole.objects.get(organisation=organisation, user=existing).role == "billing"


def test_tampered_invitation_answers_400_with_a_message(client):
    response = client.get(reverse("members:invitation", args=["not-a-real-token"]).replace("/da/", "/en/"))
    assert response.status_code == 400
    assert "This invitation link is not valid." in response.content.decode()


def test_used_invitation_answers_400(client, org_admin):
    organisation, admin = org_admin
    invitation = invitation_create(organisation=organisation, email="ny@example.com", role="member", invited_by=admin)
    url = reverse("members:invitation", args=[invitation_token(invitation)])
    client.post(url, {"full_name": "Ny Person", "password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    assert client.get(url).status_code == 400


# --- My account and personal data -----------------------------------------------------------------


def test_portal_shows_my_organisations_and_renewal_date(client, org_admin):
    organisation, admin = org_admin
    client.force_login(admin)
    body = client.get(reverse("accounts:portal").replace("/da/", "/en/")).content.decode()
    membership = organisation.memberships.get()
    assert "Nordlys Medico ApS" in body
    assert f"Renewal date: {membership.period_end:%d/%m/%Y}" in body


def test_personal_data_download_contains_my_roles(client, org_admin):
    _organisation, admin = org_admin
    client.force_login(admin)
    data = client.get(reverse("accounts:personal_data")).json()
    assert data["account"]["email"] == admin.email
    assert data["members"]["organisation_roles"][0]["organisation"] == "Nordlys Medico ApS"


def test_last_admin_cannot_delete_the_account(client, org_admin):
    _organisation, admin = org_admin
    client.force_login(admin)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 409
    assert User.objects.filter(pk=admin.pk).exists()


def test_account_delete_keeps_the_organisation(client, org_admin):
    organisation, _admin = org_admin
    member = OrganisationRoleFactory(organisation=organisation, role="member").user
    client.force_login(member)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=member.pk).exists()
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_account_delete_with_a_wrong_password_answers_400(client, org_admin):
    organisation, _ = org_admin
    member = OrganisationRoleFactory(organisation=organisation, role="member").user
    client.force_login(member)
    assert client.post(reverse("accounts:delete"), {"password": "wrong"}).status_code == 400
    assert User.objects.filter(pk=member.pk).exists()


def test_directory_cache_is_dropped_when_a_member_changes(client, django_capture_on_commit_callbacks):
    from members.services import organisation_profile_update

    organisation = member_organisation_create(name="Gammelt Navn")
    assert "Gammelt Navn" in client.get(reverse("members:directory")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        organisation_profile_update(organisation=organisation, data={"name": "Nyt Navn"}, m2m={}, by=None)
    body = client.get(reverse("members:directory")).content.decode()
    assert ("Nyt Navn" in body, "Gammelt Navn" in body) == (True, False)


def test_signed_in_person_applies_without_a_new_account(client):
    person = UserFactory(email="eksisterende@example.com")
    client.force_login(person)
    form = apply_form(contact_email="someone-else@example.com")
    del form["password1"], form["password2"]
    assert client.post(reverse("members:apply"), form).status_code == 302
    application = MembershipApplication.objects.get()
    assert (application.applicant, application.contact_email) == (person, "eksisterende@example.com")
    assert User.objects.count() == 1


def test_portal_lists_every_organisation_a_person_belongs_to(client):
    person = UserFactory()
    for name in ("Alfa ApS", "Beta ApS"):
        OrganisationRoleFactory(organisation=member_organisation_create(name=name), user=person, role="member")
    client.force_login(person)
    organisations = [
        item["organisation"].name for item in client.get(reverse("accounts:portal")).context["section"]["organisations"]
    ]
    assert organisations == ["Alfa ApS", "Beta ApS"]


def test_directory_card_is_built_from_the_current_profile():
    from django.http import QueryDict
    from django.utils import translation

    from members import directory
    from members.services import organisation_profile_update

    organisation = member_organisation_create(name="Kortfirma", description_da="Gammel beskrivelse")
    with translation.override("da"):
        cached = directory.DirectoryCache(params=QueryDict(), language="da", visitor=None)
        facets = directory.directory_facets(cached=cached)
        before = directory.directory_cards(organisations=[Organisation.objects.get()], facets=facets)
        # No commit, so the generation stays: the card is built from the row as it is now.
        organisation_profile_update(
            organisation=organisation, data={"description_da": "Ny beskrivelse"}, m2m={}, by=None
        )
        after = directory.directory_cards(organisations=[Organisation.objects.get()], facets=facets)
    assert ("Gammel beskrivelse" in before[0].excerpt, "Ny beskrivelse" in after[0].excerpt) == (True, True)


@pytest.mark.parametrize("language", ["da", "en"])
def test_directory_cards_link_each_organisation_where_its_page_is_and_are_written_escaped(language):
    from django.http import QueryDict
    from django.utils import translation

    from members import directory

    member_organisation_create(name="Første ApS", slug="forste-aps", city="Århus")
    member_organisation_create(name='Anden <A/S> & "Co"', slug="0slug0-anden", city="", description="")
    with translation.override(language):
        cached = directory.DirectoryCache(params=QueryDict(), language=language, visitor=None)
        organisations = list(Organisation.objects.order_by("name"))
        cards = directory.directory_cards(organisations=organisations, facets=directory.directory_facets(cached=cached))
        expected = [organisation.get_absolute_url() for organisation in organisations]
        markup = directory.cards_html(cards)
    assert (
        [card.url for card in cards]
        == expected
        == [f"/{language}/members/0slug0-anden/", f"/{language}/members/forste-aps/"]
    )
    kind = {"da": "Virksomhed", "en": "Company"}[language]
    assert markup.startswith(
        f'\n      <li class="card">\n        <h2><a href="/{language}/members/0slug0-anden/">'
        f'Anden &lt;A/S&gt; &amp; &quot;Co&quot;</a></h2>\n        <p class="muted">{kind}</p>\n        <p></p>'
        "\n        \n      </li>\n    "
    )
    assert (
        f'<a href="/{language}/members/forste-aps/">Første ApS</a></h2>\n        <p class="muted">{kind} · Århus'
        in markup
    )
    assert directory.cards_html([]) == ""
