"""The sign-up form's fields are copied for each form without `deepcopy`'s machinery: each form still has fields,
widgets, attributes, messages and validators of its own, as `Field.__deepcopy__` gives them."""

import copy

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser

from events.forms import RegistrationForm, _field_copied
from tests.factories import EventFactory


@pytest.mark.django_db
def test_each_sign_up_form_has_fields_of_its_own():
    event = EventFactory()
    first = RegistrationForm(event=event, user=AnonymousUser())
    second = RegistrationForm(event=event, user=AnonymousUser())
    base = RegistrationForm.base_fields["email"]
    for form in (first, second):
        field = form.fields["email"]
        assert (type(field), type(field.widget)) == (forms.EmailField, forms.EmailInput)
        assert field is not base and field.widget is not base.widget
        assert field.widget.attrs is not base.widget.attrs
        assert field.error_messages is not base.error_messages and field.validators is not base.validators
    first.fields["email"].widget.attrs["autocomplete"] = "off"
    first.fields["email"].error_messages["required"] = "Changed"
    first.fields["email"].validators.append(lambda value: None)
    first.fields["full_name"].label = "Changed"
    assert "autocomplete" not in second.fields["email"].widget.attrs
    assert second.fields["email"].error_messages["required"] == base.error_messages["required"] != "Changed"
    assert len(second.fields["email"].validators) == len(base.validators)
    assert second.fields["full_name"].label == RegistrationForm.base_fields["full_name"].label != "Changed"
    assert list(first.fields) == list(second.fields) == list(RegistrationForm.base_fields)


def test_a_field_that_copies_more_than_its_attributes_goes_through_deepcopy():
    """A choice field copies its choices too (its own __deepcopy__): it is copied the general way."""
    field = forms.ChoiceField(choices=[("a", "A")], widget=forms.Select)
    copied = _field_copied(field, {})
    assert copied.choices == [("a", "A")] and copied._choices is not field._choices
    plain = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"size": 5}))
    copied_plain, deep = _field_copied(plain, {}), copy.deepcopy(plain)
    assert vars(copied_plain).keys() == vars(deep).keys()
    assert copied_plain.widget.attrs == deep.widget.attrs == {"size": 5, "maxlength": "5"}
    assert (copied_plain.max_length, copied_plain.widget.attrs is plain.widget.attrs) == (5, False)
