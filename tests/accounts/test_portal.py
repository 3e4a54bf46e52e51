"""The "my account" page and the profile form: login required, saved in one go, bad input answered with 400."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_portal_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/da/account/")
    assert (response.status_code, response["Location"]) == (302, "/da/accounts/login/?next=/da/account/")


def test_portal_shows_the_persons_name_email_and_language(client):
    user = UserFactory(full_name="Karen Blixen", email="karen@example.com", preferred_language="en")
    client.force_login(user)
    response = client.get("/da/account/")
    assert response.status_code == 200
    assert '<h2 id="me-heading">Karen Blixen</h2>' in response.text
    assert "<dd>karen@example.com</dd>" in response.text
    assert "<dd>Engelsk</dd>" in response.text


def test_portal_offers_the_administration_only_to_staff(client):
    client.force_login(UserFactory())
    assert "/da/admin/" not in client.get("/da/account/").text


def test_profile_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/en/account/profile/")
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/login/?next=/en/account/profile/")


def test_profile_saves_name_and_language_and_answers_in_the_new_language(client):
    user = UserFactory(full_name="Old Name", preferred_language="da")
    client.force_login(user)
    response = client.post("/da/account/profile/", {"full_name": "New Name", "preferred_language": "en"})
    assert (response.status_code, response["Location"]) == (302, "/en/account/")
    user.refresh_from_db()
    assert (user.full_name, user.preferred_language) == ("New Name", "en")
    assert "Your profile was saved." in client.get("/en/account/").text


def test_profile_with_an_unknown_language_answers_400_and_saves_nothing(client):
    user = UserFactory(full_name="Old Name", preferred_language="da")
    client.force_login(user)
    response = client.post("/da/account/profile/", {"full_name": "New Name", "preferred_language": "xx"})
    assert response.status_code == 400
    assert "Marker en gyldig valgmulighed. xx er ikke en af de tilgængelige valgmuligheder." in response.text
    user.refresh_from_db()
    assert (user.full_name, user.preferred_language) == ("Old Name", "da")


def test_profile_with_a_very_long_name_answers_400_and_saves_nothing(client):
    user = UserFactory(full_name="Old Name")
    client.force_login(user)
    response = client.post("/en/account/profile/", {"full_name": "x" * 5000, "preferred_language": "en"})
    assert response.status_code == 400
    assert "Ensure this value has at most 200 characters (it has 5000)." in response.text
    user.refresh_from_db()
    assert user.full_name == "Old Name"
