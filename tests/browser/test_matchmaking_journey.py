"""Browser journey: one participant asks, the other accepts, staff run the scheduler, both see it on their agenda."""

import pytest
from django.test import Client

from tests.factories import MatchmakingEventFactory, StaffFactory, matchmaking_profile, staff_totp_activate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def act_as(page, live_server, user):
    """Log the browser in as `user` by handing it a session the test client made."""
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_request_accept_schedule_and_agenda(page, live_server, assert_accessible, celery_worker):
    from events.matchmaking import services

    event = MatchmakingEventFactory()
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=3)
    asker = matchmaking_profile(event=event, full_name="Mette Holm")
    asked = matchmaking_profile(event=event, full_name="Jonas Friis")
    staff = StaffFactory()
    # The admin wants a second factor on record; the session itself comes from the test client.
    staff_totp_activate(staff)

    act_as(page, live_server, asker.user)
    page.goto(f"/da/matchmaking/{event.slug}/")
    assert_accessible(page)
    page.get_by_role("link", name="Jonas Friis").click()
    page.get_by_label("Hvorfor vil du gerne mødes?").fill("Vi vil gerne teste vores scanner hos jer.")
    page.get_by_role("button", name="Send anmodning").click()
    page.get_by_text("Din anmodning er sendt.").wait_for()
    assert_accessible(page)

    act_as(page, live_server, asked.user)
    page.goto(f"/da/matchmaking/{event.slug}/requests/")
    page.get_by_role("button", name="Accepter").click()
    page.get_by_text("Du har accepteret mødet.").wait_for()
    assert_accessible(page)

    # The scheduler runs in a worker; the run's page refreshes itself until the result is in.
    celery_worker()
    act_as(page, live_server, staff)
    page.goto("/da/admin/events/matchmakingconfig/")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("schedule_moving")
    page.locator("button[name=index]").click()
    page.get_by_text("1 af 1 møder placeret").wait_for()

    for profile, counterpart in ((asker, "Jonas Friis"), (asked, "Mette Holm")):
        act_as(page, live_server, profile.user)
        page.goto(f"/da/matchmaking/{event.slug}/agenda/")
        row = page.locator("table.data tbody tr").first
        assert (row.locator("td").nth(1).inner_text(), counterpart in row.locator("td").nth(2).inner_text()) == (
            "1",
            True,
        )
        assert_accessible(page)
