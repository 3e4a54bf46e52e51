"""An admin form with an autocomplete field, posted with a value that is not a key, shows the form's error again
instead of answering 500 while it looked the value up to display it."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_membership_for_an_organisation_that_is_no_key_is_refused_with_the_forms_error(staff_client):
    response = staff_client.post("/en/admin/members/membership/add/", {"organisation": "x" * 50})
    assert (response.status_code, "Select a valid choice" in response.text) == (200, True)


def test_an_organisation_whose_tags_are_no_keys_is_refused_with_the_forms_error(staff_client):
    response = staff_client.post("/en/admin/members/organisation/add/", {"offer_tags": ["x" * 50, "ø"]})
    assert (response.status_code, "is not a valid value" in response.text) == (200, True)
