"""Schedule runs: built under the event's lock, solved without it, applied only when nothing changed meanwhile;
the staff page that follows a run; a real worker solving a queued run."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from events.matchmaking import scheduler, services
from events.models import MatchmakingConfig, Meeting, ScheduleRun
from hubs.models import Hub
from tests.factories import (
    MatchmakingEventFactory,
    StaffFactory,
    UserFactory,
    matchmaking_profile,
    staff_totp_activate,
)

pytestmark = pytest.mark.django_db


def scene(event, *, slots=2):
    """Three participants, two accepted meetings (a-b, b-c) and `slots` slots; nothing placed yet."""
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=slots)
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    for sender, recipient in ((a, b), (b, c)):
        request = services.request_send(sender=sender, recipient=recipient, message="Let us talk about trials.")
        services.request_accept(request=request, by=recipient.user)
    return a, b, c


def solve_with(monkeypatch, before_solve):
    """The real scheduler, with `before_solve(call_number)` run as each solve starts (while no lock is held)."""
    real = scheduler.schedule
    calls = []

    def schedule(problem, **kwargs):
        calls.append(1)
        before_solve(len(calls))
        return real(problem, **kwargs)

    monkeypatch.setattr(scheduler, "schedule", schedule)
    return calls


def revision(event):
    return MatchmakingConfig.objects.get(event=event).revision


def test_a_fresh_result_is_applied_with_its_figures():
    event = MatchmakingEventFactory()
    scene(event)
    staff = StaffFactory()
    run = services.schedule_start(event=event, by=staff)
    run = services.schedule_run_execute(run_id=run.pk)
    assert (
        run.status,
        run.attempts,
        run.placed,
        run.accepted,
        run.upper_bound,
        run.gaps,
        run.solver_status,
        run.changed_profiles,
        run.started_by,
        Meeting.objects.filter(event=event, slot__isnull=False).count(),
    ) == ("applied", 1, 2, 2, 2, 0, "optimal", 3, staff, 2)


def test_a_result_solved_while_the_input_changed_is_not_applied(monkeypatch):
    event = MatchmakingEventFactory()
    a, _b, _c = scene(event)
    slots = list(event.meeting_slots.order_by("starts_at"))
    # The participant changes their availability during every solve: each result is outdated when it is done.
    solve_with(monkeypatch, lambda call: services.availability_set(profile=a, unavailable_slots=slots[call % 2 :][:1]))
    run = services.schedule_start(event=event, by=StaffFactory())
    run = services.schedule_run_execute(run_id=run.pk)
    assert (
        run.status,
        run.attempts,
        run.finished_at is not None,
        Meeting.objects.filter(event=event, slot__isnull=False).count(),
        str(run.error_message),
    ) == (
        "stale",
        2,
        True,
        0,
        "Deltagerne ændrede grundlaget for programmet, mens det blev beregnet, så intet blev gennemført.",
    )


def test_a_run_outdated_once_is_solved_again_from_the_new_input_and_applied(monkeypatch):
    event = MatchmakingEventFactory()
    a, _b, _c = scene(event)
    first_slot = event.meeting_slots.order_by("starts_at").first()

    def change_first_time(call):
        if call == 1:
            services.availability_set(profile=a, unavailable_slots=[first_slot])

    calls = solve_with(monkeypatch, change_first_time)
    run = services.schedule_run_execute(run_id=services.schedule_start(event=event, by=StaffFactory()).pk)
    ab = Meeting.objects.get(event=event, first=a)
    assert (run.status, run.attempts, len(calls), ab.slot != first_slot, ab.slot is not None) == (
        "applied",
        2,
        2,
        True,
        True,
    )


@pytest.mark.django_db(transaction=True)
def test_a_participants_change_goes_through_at_once_while_the_solver_runs(monkeypatch, settings):
    # Were the event's lock held during the solve, the change would wait and fail after this timeout.
    settings.DB_LOCK_TIMEOUT_MS = 1000
    event = MatchmakingEventFactory()
    a, _b, _c = scene(event)
    first_slot = event.meeting_slots.order_by("starts_at").first()
    solving, release = threading.Event(), threading.Event()

    def hold_the_solve(call):
        if call == 1:
            solving.set()
            release.wait(timeout=30)

    solve_with(monkeypatch, hold_the_solve)
    run = services.schedule_start(event=event, by=StaffFactory())
    outcome = {}

    def worker():
        try:
            outcome["run"] = services.schedule_run_execute(run_id=run.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    assert solving.wait(timeout=30)
    status_while_solving = ScheduleRun.objects.get(pk=run.pk).status
    started = time.monotonic()
    services.availability_set(profile=a, unavailable_slots=[first_slot])
    waited = time.monotonic() - started
    release.set()
    thread.join(timeout=60)
    ab = Meeting.objects.get(event=event, first=a)
    finished = outcome["run"]
    assert (status_while_solving, waited < 0.5, finished.status, finished.attempts, ab.slot != first_slot) == (
        "solving",
        True,
        "applied",
        2,
        True,
    )


def test_every_change_to_the_solvers_input_bumps_the_revision():
    event = MatchmakingEventFactory()
    seen = [revision(event)]
    services.session_create(event=event, starts_at=event.starts_at, slot_minutes=30, slot_count=2)
    seen.append(revision(event))
    a, b, c = (matchmaking_profile(event=event) for _ in range(3))
    request = services.request_send(sender=a, recipient=b, message="Let us talk about trials.")
    seen.append(revision(event))  # a pending request is not the solver's input
    services.request_accept(request=request, by=b.user)
    seen.append(revision(event))
    services.availability_set(profile=c, unavailable_slots=list(event.meeting_slots.all()[:1]))
    seen.append(revision(event))
    services.availability_set(profile=c, unavailable_slots=list(event.meeting_slots.all()[:1]))
    seen.append(revision(event))  # the same availability again changes nothing
    services.schedule_run(event=event, by=StaffFactory())
    seen.append(revision(event))
    meeting = Meeting.objects.get(event=event)
    services.meeting_set_locked(meeting=meeting, by=StaffFactory(), locked=True)
    seen.append(revision(event))
    config = MatchmakingConfig.objects.get(event=event)
    config.tables = 3
    services.config_update(config=config, by=StaffFactory())
    seen.append(revision(event))
    services.participant_withdraw(profile=a)
    seen.append(revision(event))
    assert seen == [0, 1, 1, 2, 3, 3, 4, 5, 6, 7]


def test_a_second_run_of_one_event_waits_for_the_first():
    event = MatchmakingEventFactory()
    scene(event)
    services.schedule_start(event=event, by=StaffFactory())
    with pytest.raises(services.MatchmakingError, match="arbejder allerede"):
        services.schedule_start(event=event, by=StaffFactory())
    assert ScheduleRun.objects.filter(event=event).count() == 1


def test_a_run_whose_meeting_was_placed_meanwhile_fails_with_a_reason():
    event = MatchmakingEventFactory()
    a, _b, _c = scene(event)
    meeting = Meeting.objects.get(event=event, first=a)
    run = services.meeting_fit_late_start(meeting=meeting, by=StaffFactory(), allow_move=True)
    Meeting.objects.filter(pk=meeting.pk).update(slot=event.meeting_slots.first(), table=1)
    run = services.schedule_run_execute(run_id=run.pk)
    assert (run.status, run.error, str(run.error_message)) == ("failed", "placed", "Dette møde har allerede en tid.")


def test_the_sweep_republishes_lost_runs_and_fails_runs_whose_worker_died():
    now = timezone.now()
    lost, dead, fresh = (MatchmakingEventFactory() for _ in range(3))
    for event in (lost, dead, fresh):
        services.schedule_start(event=event, by=StaffFactory())
    ScheduleRun.objects.filter(event=lost).update(queued_at=now - timedelta(minutes=3))
    ScheduleRun.objects.filter(event=dead).update(
        status="solving", solving_at=now - services.RUN_STUCK_AFTER - timedelta(seconds=1)
    )
    touched = services.schedule_runs_sweep(now=now)
    statuses = dict(ScheduleRun.objects.values_list("event_id", "status"))
    assert (touched, statuses[lost.pk], statuses[dead.pk], statuses[fresh.pk]) == (2, "queued", "failed", "queued")


@pytest.fixture
def staff_da(client):
    staff = StaffFactory()
    staff_totp_activate(staff)
    client.force_login(staff)
    return client


def run_page(run):
    with translation.override("da"):
        return reverse("admin:matchmaking_run", args=[run.pk])


def test_the_action_queues_a_run_and_leads_to_its_page_which_refreshes_itself(staff_da):
    event = MatchmakingEventFactory()
    scene(event)
    with translation.override("da"):
        changelist = reverse("admin:events_matchmakingconfig_changelist")
    response = staff_da.post(
        changelist, {"action": "schedule_moving", "_selected_action": [event.matchmaking.pk]}, follow=True
    )
    run = ScheduleRun.objects.get(event=event)
    page = response.content.decode()
    scripts = re.findall(r"<script[^>]*>", page)
    assert (
        response.redirect_chain[-1][0],
        run.status,
        'data-run-refresh="2"' in page,
        "Venter på en baggrundsproces. Siden opdaterer sig selv." in page,
        any("schedule-run" in tag for tag in scripts),
        [tag for tag in scripts if "src=" not in tag],
    ) == (run_page(run), "queued", True, True, True, [])


def test_the_page_shows_the_result_and_stops_refreshing(staff_da):
    event = MatchmakingEventFactory(title="Meet and match 1")
    scene(event)
    run = services.schedule_start(event=event, by=StaffFactory())
    services.schedule_run_execute(run_id=run.pk)
    page = staff_da.get(run_page(run)).content.decode()
    assert (
        "data-run-refresh" in page,
        "Meet and match 1: 2 af 2 møder placeret (højst 2 muligt), 0 ventetider." in page,
        "Gennemført" in page,
    ) == (False, True, True)


def test_an_outdated_run_can_be_run_again_from_its_page(staff_da):
    event = MatchmakingEventFactory()
    scene(event)
    run = services.schedule_start(event=event, by=StaffFactory())
    ScheduleRun.objects.filter(pk=run.pk).update(status="stale", finished_at=timezone.now())
    response = staff_da.post(run_page(run))
    again = ScheduleRun.objects.exclude(pk=run.pk).get(event=event)
    assert (response.status_code, response["Location"], again.status, again.allow_move) == (
        302,
        run_page(again),
        "queued",
        True,
    )


def test_another_hubs_staff_get_404_for_a_run(client):
    event = MatchmakingEventFactory()
    run = services.schedule_start(event=event, by=StaffFactory())
    aarhus = UserFactory(email="aarhus@example.com", is_staff=True)
    aarhus.groups.add(Group.objects.get(name="Hub staff"))
    Hub.objects.get(slug="aarhus").staff.add(aarhus)
    staff_totp_activate(aarhus)
    client.force_login(aarhus)
    assert client.get(run_page(run)).status_code == 404


def test_a_real_worker_solves_a_queued_run(celery_worker):
    celery_worker()
    event = MatchmakingEventFactory()
    scene(event)
    run = services.schedule_start(event=event, by=StaffFactory())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if not run.active:
            break
        time.sleep(0.2)
    assert (run.status, run.placed, Meeting.objects.filter(event=event, slot__isnull=False).count()) == (
        "applied",
        2,
        2,
    )


def test_a_staff_members_runs_are_in_their_download_and_lose_their_name_when_the_account_goes():
    from events.matchmaking.personal_data import matchmaking_collect, matchmaking_erase

    event = MatchmakingEventFactory(title="Meet and match 7")
    staff = StaffFactory()
    run = services.schedule_start(event=event, by=staff)
    collected = matchmaking_collect(staff)["schedule_runs_started"]
    matchmaking_erase(staff)
    run.refresh_from_db()
    assert (collected, run.started_by) == (
        [{"event": "Meet and match 7", "kind": "schedule", "queued": run.queued_at.isoformat()}],
        None,
    )
