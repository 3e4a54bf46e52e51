"""The events app's models: events and registrations in events.py, matchmaking in matchmaking.py, named here."""

from common.errors import InvalidTransition
from events.models.events import (
    ANONYMISED_EMAIL_DOMAIN,
    Answer,
    Event,
    Question,
    QuestionOption,
    Registration,
    default_reminder_offsets,
    validate_event_image,
    validate_reminder_offsets,
)
from events.models.matchmaking import (
    MatchmakingConfig,
    Meeting,
    MeetingFeedback,
    MeetingRequest,
    MeetingSession,
    Profile,
    ScheduleRun,
    Slot,
    Unavailability,
)

__all__ = [
    "ANONYMISED_EMAIL_DOMAIN",
    "Answer",
    "Event",
    "InvalidTransition",
    "MatchmakingConfig",
    "Meeting",
    "MeetingFeedback",
    "MeetingRequest",
    "MeetingSession",
    "Profile",
    "Question",
    "QuestionOption",
    "Registration",
    "ScheduleRun",
    "Slot",
    "Unavailability",
    "default_reminder_offsets",
    "validate_event_image",
    "validate_reminder_offsets",
]
