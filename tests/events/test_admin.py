"""The events admin (actions, chart, hub scoping) and the door check-in page."""

import csv
import io
import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import AuditEntry
from events import services
from events.models import Event, Registration
from outbox.models import OutboxMessage
from tests.factories import EventFactory, EventQuestionFactory, UserFactory, event_hub, staff_totp_activate

pytestmark = pytest.mark.django_db
EVENTS = "/en/admin/events/event/"
REGISTRATIONS = "/en/admin/events/registration/"


@pytest.fixture
def hub_staff_client(client):
    user = UserFactory(is_staff=True)
    staff_totp_activate(user)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="events"))
    event_hub("aarhus").staff.add(user)
    client.force_login(user)
    return client


def test_the_hub_staff_group_may_run_its_hubs_events_but_not_delete_them(client):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    staff_totp_activate(user)
    user.groups.add(Group.objects.get(name="Hub staff"))
    event_hub("aarhus").staff.add(user)
    event = EventFactory(title_en="Aarhus event", hub=event_hub("aarhus"))
    client.force_login(user)
    assert client.get(f"{EVENTS}{event.pk}/change/").status_code == 200
    assert client.get("/en/admin/events/profile/").status_code == 200
    assert client.get(f"{EVENTS}{event.pk}/delete/").status_code == 403


def sign_up(event, n, **extra):
    return services.registration_create(
        event=event, full_name=f"Person {n}", email=f"p{n}@example.com", language="en", **extra
    )


def test_event_changelist_shows_seats(staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    sign_up(event, 2)
    assert "1 / 1, 1" in staff_client.get(EVENTS).content.decode()


def test_hub_staff_see_only_their_hubs_events(hub_staff_client):
    EventFactory(title_en="Aarhus event", hub=event_hub("aarhus"))
    other = EventFactory(title_en="Copenhagen event")
    html = hub_staff_client.get(EVENTS).content.decode()
    assert "Aarhus event" in html
    assert "Copenhagen event" not in html
    assert hub_staff_client.get(f"{EVENTS}{other.pk}/change/").status_code == 302  # "does not exist" redirect


def test_export_participants_csv_has_answers_and_neutralises_formulas(staff_client):
    event = EventFactory(title_en="Export day")
    question = EventQuestionFactory(event=event, label_en="Diet", kind="text")
    services.registration_create(
        event=event, full_name="=HYPERLINK()", email="a@example.com", language="en", answers={question.pk: "Vegan"}
    )
    response = staff_client.post(EVENTS, {"action": "export_participants", "_selected_action": [event.pk]})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "Diet"
    assert rows[1][2] == "'=HYPERLINK()"
    assert rows[1][-1] == "Vegan"
    assert len(rows) == 2


def test_email_participants_goes_through_the_outbox(staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    sign_up(event, 2)
    staff_client.post(
        EVENTS,
        {
            "action": "email_participants",
            "_selected_action": [event.pk],
            "apply": "1",
            "subject": "Parking",
            "message": "Use gate B.",
            "statuses": ["confirmed"],
        },
    )
    message = OutboxMessage.objects.get(template="events/email/participants_message")
    assert message.to == "p1@example.com"
    assert "Use gate B." in message.body_text


def test_email_participants_asks_for_the_message_first(staff_client):
    event = EventFactory()
    response = staff_client.post(EVENTS, {"action": "email_participants", "_selected_action": [event.pk]})
    assert response.status_code == 200
    assert "subject" in response.context["form"].fields


def test_cancel_event_action(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    staff_client.post(
        EVENTS, {"action": "cancel_events", "_selected_action": [event.pk], "apply": "1", "reason": "Storm"}
    )
    event.refresh_from_db()
    assert event.status == Event.Status.CANCELLED
    assert OutboxMessage.objects.filter(template="events/email/event_cancelled").count() == 1


def test_change_view_shows_the_registrations_chart(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    html = staff_client.get(f"{EVENTS}{event.pk}/change/").content.decode()
    assert 'class="chart-bar"' in html
    assert " style=" not in html.split('class="registrations-chart"')[1].split("</figure>")[0]


def test_saving_a_new_time_in_the_admin_tells_registrants(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    response = staff_client.get(f"{EVENTS}{event.pk}/change/")
    data = {
        key: value
        for key, value in response.context["adminform"].form.initial.items()
        if value is not None and key not in ("partners", "image")
    }
    new_start = timezone.localtime(event.starts_at + timedelta(days=1))
    new_end = timezone.localtime(event.ends_at + timedelta(days=1))
    data.update(
        {
            "starts_at_0": new_start.strftime("%Y-%m-%d"),
            "starts_at_1": new_start.strftime("%H:%M:%S"),
            "ends_at_0": new_end.strftime("%Y-%m-%d"),
            "ends_at_1": new_end.strftime("%H:%M:%S"),
            "reminder_offsets_hours": "[168, 24]",
            "hub": event.hub_id,
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "registrations-TOTAL_FORMS": 1,
            "registrations-INITIAL_FORMS": 1,
            "registrations-0-id": event.registrations.get().pk,
            "registrations-0-event": event.pk,
        }
    )
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "member_reserved_until"):
        data.pop(key, None)
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert OutboxMessage.objects.filter(template="events/email/event_changed").count() == 1


def test_promote_action_logs_the_reason(staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    waiting = sign_up(event, 2)
    staff_client.post(
        REGISTRATIONS, {"action": "promote", "_selected_action": [waiting.pk], "apply": "1", "reason": "VIP guest"}
    )
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    assert AuditEntry.objects.get(action="events.registration.promote").data == {"reason": "VIP guest"}


def test_promote_without_a_reason_asks_again(staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    waiting = sign_up(event, 2)
    response = staff_client.post(REGISTRATIONS, {"action": "promote", "_selected_action": [waiting.pk], "apply": "1"})
    waiting.refresh_from_db()
    assert response.status_code == 200
    assert waiting.status == Registration.Status.WAITLISTED


def test_hub_staff_cannot_act_on_other_hubs_registrations(hub_staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    waiting = sign_up(event, 2)
    hub_staff_client.post(
        REGISTRATIONS, {"action": "promote", "_selected_action": [waiting.pk], "apply": "1", "reason": "x"}
    )
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITLISTED


# --- check-in page ------------------------------------------------------------------------------------------------


def test_checkin_page_searches_by_name(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    services.registration_create(event=event, full_name="Zelda Zed", email="z@example.com", language="en")
    response = staff_client.get(f"/en/events/{event.slug}/check-in/", {"q": "zel"})
    assert [r.full_name for r in response.context["registrations"]] == ["Zelda Zed"]


def test_checkin_post_marks_attended(staff_client):
    event = EventFactory()
    registration = sign_up(event, 1)
    response = staff_client.post(f"/en/events/{event.slug}/check-in/", {"registration": registration.pk, "q": "Per"})
    registration.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"].endswith("?q=Per")
    assert registration.attendance == Registration.Attendance.ATTENDED


def test_checkin_of_a_waitlisted_person_is_404(staff_client):
    event = EventFactory(capacity=1)
    sign_up(event, 1)
    waiting = sign_up(event, 2)
    response = staff_client.post(f"/en/events/{event.slug}/check-in/", {"registration": waiting.pk})
    assert response.status_code == 404


def test_checkin_is_404_for_non_staff(client):
    client.force_login(UserFactory())
    assert client.get(f"/en/events/{EventFactory().slug}/check-in/").status_code == 404


def test_checkin_is_404_for_another_hubs_staff(hub_staff_client):
    assert hub_staff_client.get(f"/en/events/{EventFactory().slug}/check-in/").status_code == 404


def test_checkin_page_has_no_inline_script_or_style(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    html = staff_client.get(f"/en/events/{event.slug}/check-in/").content.decode()
    assert " style=" not in html
    assert "<script>" not in html


def test_setting_the_status_to_cancelled_in_the_form_tells_registrants(staff_client):
    event = EventFactory()
    sign_up(event, 1)
    response = staff_client.get(f"{EVENTS}{event.pk}/change/")
    data = {
        key: value
        for key, value in response.context["adminform"].form.initial.items()
        if value is not None and key not in ("partners", "image", "starts_at", "ends_at")
    }
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    data.update(
        {
            "status": "cancelled",
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": start.strftime("%H:%M:%S"),
            "ends_at_0": end.strftime("%Y-%m-%d"),
            "ends_at_1": end.strftime("%H:%M:%S"),
            "reminder_offsets_hours": "[168, 24]",
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "registrations-TOTAL_FORMS": 1,
            "registrations-INITIAL_FORMS": 1,
            "registrations-0-id": event.registrations.get().pk,
            "registrations-0-event": event.pk,
        }
    )
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", data)
    event.refresh_from_db()
    assert response.status_code == 302
    assert event.status == Event.Status.CANCELLED
    assert OutboxMessage.objects.filter(template="events/email/event_cancelled").count() == 1


@pytest.mark.parametrize("value", ["abc", "", "1e9", "99999999"])
def test_checkin_with_a_bad_registration_id_is_404(staff_client, value):
    event = EventFactory()
    assert staff_client.post(f"/en/events/{event.slug}/check-in/", {"registration": value}).status_code == 404


def test_checkin_page_marks_no_shows_after_the_event(staff_client):
    event = EventFactory()
    came, stayed_away = sign_up(event, 1), sign_up(event, 2)
    services.registration_check_in(registration=came, actor=None)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timedelta(hours=5), ends_at=timezone.now() - timedelta(hours=2)
    )
    response = staff_client.post(f"/en/events/{event.slug}/check-in/", {"no_shows": "1"})
    stayed_away.refresh_from_db()
    assert response.status_code == 302
    assert stayed_away.attendance == Registration.Attendance.NO_SHOW


def test_checkin_page_refuses_no_shows_before_the_end(staff_client):
    event = EventFactory()
    registration = sign_up(event, 1)
    staff_client.post(f"/en/events/{event.slug}/check-in/", {"no_shows": "1"})
    registration.refresh_from_db()
    assert registration.attendance == Registration.Attendance.UNKNOWN


def admin_change_data(staff_client, event, **changes):
    response = staff_client.get(f"{EVENTS}{event.pk}/change/")
    data = {
        key: value
        for key, value in response.context["adminform"].form.initial.items()
        if value is not None and key not in ("partners", "image")
    }
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    data.update(
        {
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": start.strftime("%H:%M:%S"),
            "ends_at_0": end.strftime("%Y-%m-%d"),
            "ends_at_1": end.strftime("%H:%M:%S"),
            "reminder_offsets_hours": "[168, 24]",
            "hub": event.hub_id,
            "questions-TOTAL_FORMS": 0,
            "questions-INITIAL_FORMS": 0,
            "registrations-TOTAL_FORMS": 0,
            "registrations-INITIAL_FORMS": 0,
            **changes,
        }
    )
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "member_reserved_until"):
        data.pop(key, None)
    return data


def image_upload(*, fmt="PNG", size=(64, 32), name="event.png", noise=False):
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_an_event_image_uploaded_in_the_admin_is_shown_on_the_event_page(staff_client, media, client):
    event = EventFactory()
    data = admin_change_data(staff_client, event, image=image_upload())
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", data)
    event.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert event.image.name.startswith("events/event")
    assert f'src="{event.image.url}"' in client.get(f"/da/events/{event.slug}/").content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (lambda: SimpleUploadedFile("event.png", b"not an image", content_type="image/png"), "Upload a valid image"),
        (lambda: image_upload(fmt="GIF", name="event.gif"), "JPEG, PNG or WebP"),
        (lambda: image_upload(size=(1200, 1000), noise=True), "at most 2 MB"),
    ],
)
def test_a_bad_event_image_is_refused_with_a_message_and_nothing_is_saved(staff_client, media, upload, message):
    event = EventFactory(title_en="Before")
    data = admin_change_data(staff_client, event, title_en="After", image=upload())
    response = staff_client.post(f"{EVENTS}{event.pk}/change/", data)
    event.refresh_from_db()
    assert (response.status_code, event.title_en, event.image.name) == (200, "Before", "")
    assert message in str(response.context["adminform"].form.errors["image"])
