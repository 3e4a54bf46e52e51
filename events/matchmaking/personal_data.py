"""What matchmaking keeps about a person (profiles, requests and their messages, meetings, feedback, unavailable
slots, and for staff the schedule runs they started), for the download, and their withdrawal from upcoming
matchmaking when the account is deleted."""

from django.db.models import Q
from django.utils import timezone

from events.matchmaking.services import participant_withdraw, profile_anonymise
from events.models import Meeting, MeetingFeedback, MeetingRequest, Profile, ScheduleRun


def _iso(value):
    return value.isoformat() if value else None


def matchmaking_collect(user) -> dict:
    profiles = list(Profile.objects.filter(user=user).select_related("event").order_by("event__starts_at", "pk"))
    requests = (
        MeetingRequest.objects.filter(Q(sender__in=profiles) | Q(recipient__in=profiles))
        .select_related("event", "sender", "recipient")
        .order_by("created_at", "pk")
    )
    meetings = (
        Meeting.objects.filter(Q(first__in=profiles) | Q(second__in=profiles))
        .select_related("event", "slot", "first", "second")
        .order_by("event__starts_at", "pk")
    )
    mine = {profile.pk for profile in profiles}
    return {
        "profiles": [
            {
                "event": profile.event.title,
                "name": profile.display_name,
                "organisation": profile.organisation_name,
                "type": profile.kind,
                "headline": profile.headline,
                "offers": profile.offers,
                "seeks": profile.seeks,
                "languages": profile.languages,
                "unavailable_slots": [str(item.slot) for item in profile.unavailable.select_related("slot")],
                "created": _iso(profile.created_at),
            }
            for profile in profiles
        ],
        "meeting_requests": [
            {
                "event": request.event.title,
                "sent_by_you": request.sender_id in mine,
                "other": (request.recipient if request.sender_id in mine else request.sender).display_name,
                "message": request.message,
                "status": request.status,
                "sent": _iso(request.created_at),
                "answered": _iso(request.answered_at),
            }
            for request in requests
        ],
        "meetings": [
            {
                "event": meeting.event.title,
                "with": (meeting.second if meeting.first_id in mine else meeting.first).display_name,
                "slot": str(meeting.slot) if meeting.slot else None,
                "table": meeting.table,
                "outcome": meeting.outcome,
            }
            for meeting in meetings
        ],
        "meeting_feedback": [
            {
                "event": feedback.meeting.event.title,
                "happened": feedback.happened,
                "result": feedback.result,
                "comment": feedback.comment,
                "given": _iso(feedback.created_at),
            }
            for feedback in MeetingFeedback.objects.filter(profile__in=profiles)
            .select_related("meeting__event")
            .order_by("created_at", "pk")
        ],
        "schedule_runs_started": [
            {"event": run.event.title, "kind": run.kind, "queued": _iso(run.queued_at)}
            for run in ScheduleRun.objects.filter(started_by=user).select_related("event").order_by("queued_at", "pk")
        ],
    }


def matchmaking_erase(user) -> None:
    """At events still to come the person is withdrawn (counterparts are told); every profile is then anonymised,
    so the other side keeps its past meetings and feedback."""
    now = timezone.now()
    for profile in Profile.objects.filter(user=user).select_related("event").order_by("pk"):
        if profile.event.ends_at > now:
            participant_withdraw(profile=profile, now=now)
        profile_anonymise(profile=profile)
    # The runs stay, with their figures, but no longer name who started them.
    ScheduleRun.objects.filter(started_by=user).update(started_by=None)
