"""The events app: registers the "my registrations" section of the account page."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _portal_registrations(request) -> dict:
    from events import selectors, services
    from events.models import Event, Registration

    items = [
        {
            "registration": registration,
            "manage_url": services.registration_manage_url(registration),
            "can_cancel": registration.status != Registration.Status.CANCELLED
            and registration.event.status == Event.Status.PUBLISHED,
        }
        for registration in selectors.user_registrations(user=request.user)[:50]
    ]
    return {"registrations": items}


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        from accounts.personal_data import personal_data_register
        from accounts.portal import portal_section_register
        from events.matchmaking.personal_data import matchmaking_collect, matchmaking_erase
        from events.personal_data import events_collect, events_erase
        from events.services import OUTCOME_RENDERER, registration_outcome_render
        from outbox.api import mail_renderer_register

        mail_renderer_register(name=OUTCOME_RENDERER, render=registration_outcome_render)
        portal_section_register(order=20, template="events/_portal_registrations.html", context=_portal_registrations)
        personal_data_register(
            key="events",
            title=_("Event registrations"),
            models=["events.Registration", "events.Answer"],
            collect=events_collect,
            erase=events_erase,
        )
        personal_data_register(
            key="matchmaking",
            title=_("Matchmaking"),
            models=[
                "events.Profile",
                "events.MeetingRequest",
                "events.Meeting",
                "events.MeetingFeedback",
                "events.Unavailability",
                "events.ScheduleRun",
            ],
            collect=matchmaking_collect,
            erase=matchmaking_erase,
            erase_order=40,
        )
