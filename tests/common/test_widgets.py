"""LongSelect writes the markup Django's Select writes, without a template render per option."""

import re

import pytest
from django import forms
from django_countries import countries

from common.widgets import LongSelect


def tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


CHOICES = {
    "countries": list(countries),
    "groups": [("", "---"), ("Norden", [("DK", "Danmark"), ("SE", "Sverige")]), ("Øvrige", [("DE", "Tyskland & co")])],
}


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("value", ["DK", "", "<script>"])
def test_the_markup_is_djangos(choices, value):
    attrs = {"id": "id_country", "required": True, "aria-describedby": "id_country_helptext", "disabled": False}
    django_select = forms.Select(choices=CHOICES[choices]).render("country", value, attrs=attrs)
    long_select = LongSelect(choices=CHOICES[choices]).render("country", value, attrs=attrs)
    assert tags(long_select) == tags(django_select)


def test_the_chosen_country_is_selected_and_labels_are_escaped():
    html = LongSelect(choices=[("DK", "Danmark"), ("XX", "<b>Fake</b>")]).render("country", "DK")
    assert html == (
        '<select name="country"><option value="DK" selected>Danmark</option>'
        '<option value="XX">&lt;b&gt;Fake&lt;/b&gt;</option></select>'
    )
