"""Staff reach the admin only through allauth's login and only with an authenticator app."""

import pytest

from tests.factories import PASSWORD, StaffFactory, UserFactory, staff_totp_activate, totp_code

pytestmark = pytest.mark.django_db


def test_admin_sends_anonymous_visitors_to_allauths_login(client):
    response = client.get("/da/admin/", follow=True)
    assert response.redirect_chain == [
        ("/da/admin/login/?next=/da/admin/", 302),
        ("/da/accounts/login/?next=%2Fda%2Fadmin%2F", 302),
    ]


def test_admin_login_url_also_goes_through_allauth(client):
    response = client.get("/en/admin/login/")
    assert (response.status_code, response["Location"]) == (302, "/en/accounts/login/?next=%2Fen%2Fadmin%2Flogin%2F")


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client):
    client.force_login(StaffFactory())
    response = client.get("/da/admin/")
    assert (response.status_code, response["Location"]) == (302, "/da/accounts/2fa/totp/activate/")


def test_staff_with_an_authenticator_reach_the_admin(client):
    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    assert client.get("/da/admin/").status_code == 200


def test_members_who_are_not_staff_are_refused_the_admin(client):
    client.force_login(UserFactory())
    response = client.get("/en/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/admin/login/")


def test_staff_who_just_logged_in_set_up_totp_without_the_password_again_and_land_where_they_were_going(client):
    staff = StaffFactory()
    login = client.post(
        "/da/accounts/login/?next=/da/admin/events/event/", {"login": staff.email, "password": PASSWORD}
    )
    assert login["Location"] == "/da/admin/events/event/"
    assert client.get("/da/admin/events/event/")["Location"] == "/da/accounts/2fa/totp/activate/"

    page = client.get("/da/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    activated = client.post("/da/accounts/2fa/totp/activate/", {"code": totp_code(page.context["form"].secret)})
    assert (activated.status_code, activated["Location"]) == (302, "/da/admin/events/event/")
    assert client.get("/da/admin/events/event/").status_code == 200


def test_a_member_who_logged_in_long_ago_is_asked_for_the_password_before_adding_totp(client):
    client.force_login(UserFactory())
    response = client.get("/en/accounts/2fa/totp/activate/")
    assert response["Location"].startswith("/en/accounts/reauthenticate/")
