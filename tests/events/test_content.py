"""Event texts on the page: Markdown made safe, schema.org data that cannot break out, and field validation."""

import pytest
from django.core.exceptions import ValidationError

from events.templatetags.events_tags import markdown_safe
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered():
    html = markdown_safe("## Program\n\n- **Velkomst**")
    assert html == "<h2>Program</h2>\n<ul>\n<li><strong>Velkomst</strong></li>\n</ul>"


def test_markdown_cannot_run_script():
    html = markdown_safe('<script>alert(1)</script>[x](javascript:alert(1)) <img src=x onerror="alert(1)">')
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def test_links_in_markdown_get_a_safe_rel():
    assert markdown_safe("[DLSC](https://dlsc.example)") == (
        '<p><a href="https://dlsc.example" rel="noopener noreferrer nofollow">DLSC</a></p>'
    )


def test_json_ld_escapes_a_closing_script_tag_in_the_title(client):
    event = EventFactory(title_da="</script><script>alert(1)</script>")
    html = client.get(f"/da/events/{event.slug}/").content.decode()
    assert "<script>alert(1)" not in html
    assert "\\u003C/script\\u003E" in html


@pytest.mark.parametrize("offsets", [[0], [24, 24], ["24"], [24 * 91]])
def test_bad_reminder_offsets_are_refused(offsets):
    event = EventFactory.build(reminder_offsets_hours=offsets)
    with pytest.raises(ValidationError) as error:
        event.full_clean(exclude=["hub", "slug"])
    assert "reminder_offsets_hours" in error.value.message_dict


def test_an_event_must_end_after_it_starts():
    event = EventFactory.build()
    event.ends_at = event.starts_at
    with pytest.raises(ValidationError) as error:
        event.full_clean(exclude=["hub", "slug"])
    assert "ends_at" in error.value.message_dict
