"""The schedule run page in Chromium: it follows a queued run to its result by itself (a static script, no inline
one), passes axe at 1280 and 320 px, and logs no console error."""

import pytest
from django.test import Client

from events.matchmaking import services
from tests.factories import MatchmakingEventFactory, StaffFactory, matchmaking_profile, staff_totp_activate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_of_a_queued_run_shows_the_result_once_it_is_solved(page, live_server, assert_accessible):
    event = MatchmakingEventFactory(title="Meet and match 9")
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=2)
    a, b = matchmaking_profile(event=event), matchmaking_profile(event=event)
    request = services.request_send(sender=a, recipient=b, message="Let us talk about trials.")
    services.request_accept(request=request, by=b.user)
    staff = StaffFactory()
    staff_totp_activate(staff)
    client = Client()
    client.force_login(staff)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    run = services.schedule_start(event=event, by=staff)
    checked = []
    for width in (320, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/da/admin/events/matchmakingconfig/runs/{run.pk}/")
        assert_accessible(page)
        checked.append(page.evaluate("document.documentElement.scrollWidth") <= width)
    services.schedule_run_execute(run_id=run.pk)
    page.get_by_text("Meet and match 9: 1 af 1 møder placeret (højst 1 muligt), 0 ventetider.").wait_for()
    assert_accessible(page)
    assert (checked, page.locator("[data-run-refresh]").count(), page.console_errors) == ([True, True], 0, [])
