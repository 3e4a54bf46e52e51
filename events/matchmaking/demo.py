"""Demo matchmaking: a matchmaking event with sessions, profiles, requests in every state and a schedule."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import user_create
from events import services as event_services
from events.matchmaking import services
from events.models import Event, MatchmakingConfig, MeetingRequest, MeetingSession, Profile, Registration
from hubs.models import Hub
from members.models import Tag

TAGS = {
    "clinical-validation": ("Klinisk validering", "Clinical validation"),
    "medical-imaging": ("Medicinsk billeddannelse", "Medical imaging"),
    "telemedicine": ("Telemedicin", "Telemedicine"),
    "regulatory-affairs": ("Regulatoriske forhold", "Regulatory affairs"),
    "ai-diagnostics": ("AI-diagnostik", "AI diagnostics"),
    "venture-capital": ("Venturekapital", "Venture capital"),
}

PEOPLE = [
    ("Mette Holm", "NordScan ApS", "company", ["medical-imaging", "ai-diagnostics"], ["clinical-validation"]),
    ("Jonas Friis", "Odense Universitetshospital", "hospital", ["clinical-validation"], ["ai-diagnostics"]),
    ("Sara Lind", "Aarhus Universitet", "researcher", ["ai-diagnostics"], ["venture-capital"]),
    ("Peter Dahl", "Region Syddanmark", "public_body", ["telemedicine"], ["medical-imaging"]),
    ("Line Juhl", "Nordic Health Ventures", "investor", ["venture-capital"], ["ai-diagnostics", "telemedicine"]),
    ("Ali Nasser", "CareLink A/S", "company", ["telemedicine"], ["clinical-validation", "regulatory-affairs"]),
    ("Emma Krogh", "ReguMed ApS", "company", ["regulatory-affairs"], ["medical-imaging"]),
    ("Karl Bech", "Aalborg Universitetshospital", "hospital", ["clinical-validation"], ["telemedicine"]),
]


SLUG = "meet-and-match-sundhedsinnovation"


def _event(stdout) -> Event | None:
    event = Event.objects.filter(slug=SLUG).first()
    if event is not None:
        return event
    hub = Hub.objects.order_by("-is_headquarters", "ordering").first()
    if hub is None:
        stdout.write("  no hub yet: matchmaking demo skipped")
        return None
    day = timezone.localdate() + timedelta(days=28)
    starts = timezone.make_aware(datetime.combine(day, time(9, 0)))
    return event_services.event_create(
        slug=SLUG,
        title_da="Meet and match: sundhedsinnovation",
        title_en="Meet and match: health innovation",
        summary_da="Korte møder på tomandshånd mellem virksomheder, forskere, hospitaler og investorer.",
        summary_en="Short one-to-one meetings between companies, researchers, hospitals and investors.",
        kind=Event.Kind.MATCHMAKING,
        hub=hub,
        venue_name_da=hub.name_da or hub.name,
        venue_name_en=hub.name_en or hub.name,
        venue_address=hub.address or hub.city,
        starts_at=starts,
        ends_at=starts + timedelta(hours=7),
        status=Event.Status.PUBLISHED,
    )


def _registration(*, event, user, organisation_name="") -> Registration:
    existing = Registration.objects.filter(event=event, user=user).exclude(status=Registration.Status.CANCELLED)
    return existing.first() or event_services.registration_create(
        event=event,
        full_name=user.full_name,
        email=user.email,
        language=user.preferred_language,
        user=user,
        organisation_name=organisation_name,
    )


def _participant(*, event, number, spec, tags) -> Profile:
    name, organisation, kind, offers, seeks = spec
    email = f"match{number}@dlsc.example"
    user = User.objects.filter(email=email).first() or user_create(
        email=email, password=DEMO_PASSWORD, full_name=name, email_verified=True
    )
    registration = _registration(event=event, user=user, organisation_name=organisation)
    profile = Profile.objects.filter(registration=registration).first()
    if profile is None:
        profile = services.profile_create(registration=registration, kind=kind, languages=["da", "en"])
        profile.headline_da = f"{organisation} søger partnere inden for sundhedsinnovation."
        profile.headline_en = f"{organisation} is looking for partners in health innovation."
        profile.offers_da = "Vi tilbyder " + ", ".join(tags[t].name_da.lower() for t in offers) + "."
        profile.offers_en = "We offer " + ", ".join(tags[t].name_en.lower() for t in offers) + "."
        profile.seeks_da = "Vi søger " + ", ".join(tags[t].name_da.lower() for t in seeks) + "."
        profile.seeks_en = "We seek " + ", ".join(tags[t].name_en.lower() for t in seeks) + "."
        profile.save()
        profile.offer_tags.set([tags[t] for t in offers])
        profile.seek_tags.set([tags[t] for t in seeks])
    return profile


def seed(*, rng, stdout) -> None:
    event = _event(stdout)
    if event is None:
        return
    MatchmakingConfig.objects.get_or_create(event=event, defaults={"tables": 4})
    if not MeetingSession.objects.filter(event=event).exists():
        day = timezone.localtime(event.starts_at).date()
        for hour, name in ((10, "Formiddag"), (13, "Eftermiddag")):
            starts = timezone.make_aware(datetime.combine(day, time(hour, 0)))
            services.session_create(event=event, starts_at=starts, slot_minutes=30, slot_count=4, name=name)
    tags = {}
    for slug, (da, en) in TAGS.items():
        tags[slug], _ = Tag.objects.get_or_create(slug=slug, defaults={"name_da": da, "name_en": en})
    profiles = [_participant(event=event, number=n, spec=spec, tags=tags) for n, spec in enumerate(PEOPLE, 1)]
    # The demo member login takes part too, so logging in as them shows a request to answer and an agenda.
    member = User.objects.filter(email="member@dlsc.example").first()
    member_profile = None
    if member is not None:
        registration = _registration(event=event, user=member)
        member_profile = Profile.objects.filter(registration=registration).first() or services.profile_create(
            registration=registration, kind=Profile.Kind.COMPANY, languages=["da", "en"]
        )
        member_profile.seek_tags.add(tags["clinical-validation"])
    stdout.write(
        f"  {len(profiles)} matchmaking participants at {event.slug}: match1@dlsc.example … match8@dlsc.example"
    )
    if MeetingRequest.objects.filter(event=event).exists():
        return
    slots = list(event.meeting_slots.order_by("starts_at"))
    services.availability_set(profile=profiles[4], unavailable_slots=slots[:2])
    pairs = [(0, 1), (2, 4), (5, 1), (3, 0), (4, 0), (6, 0), (7, 5), (2, 1), (5, 3)]
    for sender, recipient in pairs:
        request = services.request_send(
            sender=profiles[sender],
            recipient=profiles[recipient],
            message="Vi vil gerne høre mere om jeres arbejde og se, om vi kan hjælpe hinanden.",
        )
        services.request_accept(request=request, by=profiles[recipient].user)
    services.request_decline(
        request=services.request_send(sender=profiles[6], recipient=profiles[2], message="Skal vi tale regulering?"),
        by=profiles[2].user,
    )
    services.request_send(
        sender=profiles[7], recipient=profiles[4], message="Vi leder efter kapital til et pilotprojekt."
    )
    if member_profile is not None:
        services.request_accept(
            request=services.request_send(
                sender=profiles[1], recipient=member_profile, message="Vi kan hjælpe med klinisk validering."
            ),
            by=member,
        )
        services.request_send(sender=profiles[4], recipient=member_profile, message="Vi investerer i medtech.")
    past = timezone.now() - timedelta(days=10)
    services.request_send(sender=profiles[3], recipient=profiles[6], message="Kan vi mødes om telemedicin?", now=past)
    services.requests_expire()
    run = services.schedule_run(event=event, by=None)
    stdout.write(f"  {run.result.placed_count} meetings scheduled; requests pending, declined and expired too")
