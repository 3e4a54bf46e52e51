"""One date format per language: the newsletter archive, event pages and mails write a date the same way, the month
filter names its months, and logging out keeps the page's language."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from events.templatetags.events_tags import event_time
from tests.factories import EventFactory, UserFactory

EVENING = datetime.datetime(2027, 10, 21, 18, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))


@pytest.mark.parametrize(
    ("language", "date", "short"),
    [("da", "21. oktober 2027", "21.10.2027"), ("en", "21 October 2027", "21/10/2027")],
)
def test_date_formats_are_one_per_language(language, date, short):
    template = Template('{{ when|date:"DATE_FORMAT" }}|{{ when|date:"SHORT_DATE_FORMAT" }}')
    with translation.override(language):
        assert template.render(Context({"when": EVENING})) == f"{date}|{short}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("da", ["torsdag 21. oktober 2027, 18:00", "21. oktober 2027, 18:00", "21. oktober 2027"]),
        ("en", ["Thursday 21 October 2027, 18:00", "21 October 2027, 18:00", "21 October 2027"]),
    ],
)
def test_event_times_use_the_same_date_format_as_the_archive(language, expected):
    with translation.override(language):
        assert [event_time(EVENING, style) for style in ("long", "short", "day")] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "label"), [("da", "oktober 2027"), ("en", "October 2027")])
def test_the_month_filter_names_its_months(client, language, label):
    event = EventFactory(starts_at=EVENING)
    html = client.get(f"/{language}/events/?month=2027-10").content.decode()
    assert 'type="month"' not in html
    assert f'<option value="2027-10" selected>{label}</option>' in html
    assert event.title in html


@pytest.mark.django_db
def test_logging_out_from_a_danish_page_stays_danish_whatever_the_browser_prefers(client):
    client.force_login(UserFactory())
    response = client.post("/da/accounts/logout/", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Location"]) == (302, "/da/")
    home = client.get("/da/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Du er logget ud." in home
