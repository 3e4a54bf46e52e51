"""Demo events through the services: upcoming and past events in every hub, one full event with a waitlist and one
matchmaking event. Idempotent: an event whose slug exists is left alone."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from accounts.models import User
from events import services
from events.models import Event, Question, QuestionOption
from hubs.models import Hub
from members.models import Partner

FIRST_NAMES = [
    "Anna",
    "Bo",
    "Camilla",
    "Daniel",
    "Emma",
    "Frederik",
    "Gitte",
    "Henrik",
    "Ida",
    "Jonas",
    "Karen",
    "Lars",
]
LAST_NAMES = ["Hansen", "Nielsen", "Jensen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"]
ORGANISATIONS = ["NordBio ApS", "MedTech Aarhus A/S", "Syddansk Sundhed", "Aalborg Robotics", "Region Hovedstaden"]

TOPICS = [
    ("Velfærdsteknologi i kommunerne", "Welfare technology in the municipalities", Event.Kind.NETWORK_MEETING),
    ("Fra forskning til virksomhed", "From research to business", Event.Kind.WORKSHOP),
    ("Digital sundhed: data i klinikken", "Digital health: data in the clinic", Event.Kind.WEBINAR),
    ("Life Science-konference", "Life science conference", Event.Kind.CONFERENCE),
]


def _at(days: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _people(rng, count: int, prefix: str):
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        yield {
            "full_name": f"{first} {last}",
            "email": f"{prefix}-{n}@demo.dlsc.example",
            "organisation_name": rng.choice(ORGANISATIONS),
            "job_title": rng.choice(["CEO", "Projektleder", "Forsker", "Konsulent"]),
            "language": rng.choice(["da", "da", "en"]),
        }


def _event(*, slug, title_da, title_en, kind, hub, starts_at, partners=(), **extra) -> tuple[Event, bool]:
    existing = Event.objects.filter(slug=slug).first()
    if existing:
        return existing, False
    event = services.event_create(
        slug=slug,
        title_da=title_da,
        title_en=title_en,
        summary_da=f"Mød klyngens medlemmer og partnere hos {hub.name_da or hub.name}.",
        summary_en=f"Meet the cluster's members and partners at {hub.name_en or hub.name}.",
        body_da="## Program\n\n- Velkomst\n- Oplæg og debat\n- **Netværk** og matchmaking",
        body_en="## Programme\n\n- Welcome\n- Talks and debate\n- **Networking** and matchmaking",
        kind=kind,
        hub=hub,
        venue_name_da=hub.name_da or hub.name,
        venue_name_en=hub.name_en or hub.name,
        venue_address=hub.address or hub.city,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        status=Event.Status.PUBLISHED,
        partners=partners,
        **extra,
    )
    return event, True


def _sign_up(event, people, *, now=None) -> list:
    return [services.registration_create(event=event, now=now, **person) for person in people]


def seed(*, rng, stdout) -> None:
    partners = list(Partner.objects.order_by("pk")[:3])
    member = User.objects.filter(email="member@dlsc.example").first()
    for index, hub in enumerate(Hub.objects.order_by("ordering", "pk")):
        title_da, title_en, kind = TOPICS[index % len(TOPICS)]
        event, created = _event(
            slug=f"{hub.slug}-{kind}-upcoming",
            title_da=f"{title_da} ({hub.city})",
            title_en=f"{title_en} ({hub.city})",
            kind=kind,
            hub=hub,
            starts_at=_at(10 + 7 * index, 13),
            capacity=40,
            price_dkk=rng.choice([0, 0, 450]),
            partners=partners[:1],
        )
        if created:
            _sign_up(event, _people(rng, rng.randint(3, 9), f"{event.slug}"))
            stdout.write(f"  event {event.slug}")
        past, created = _event(
            slug=f"{hub.slug}-network-past",
            title_da=f"Netværksmøde ({hub.city})",
            title_en=f"Network meeting ({hub.city})",
            kind=Event.Kind.NETWORK_MEETING,
            hub=hub,
            starts_at=_at(-30 - 5 * index, 15),
        )
        if created:
            registrations = _sign_up(past, _people(rng, 6, past.slug), now=past.starts_at - timedelta(days=7))
            for registration in registrations[:4]:
                services.registration_check_in(registration=registration, actor=None, now=past.starts_at)
            services.event_no_shows_mark(event=past, actor=None)
            stdout.write(f"  past event {past.slug}")

    hub = Hub.objects.order_by("-is_headquarters", "ordering").first()
    if hub is None:
        return
    full, created = _event(
        slug="matchmaking-medtech-full",
        title_da="Matchmaking: medtech møder hospitalerne",
        title_en="Matchmaking: medtech meets the hospitals",
        kind=Event.Kind.MATCHMAKING,
        hub=hub,
        starts_at=_at(21, 9),
        capacity=8,
        partners=partners,
    )
    if created:
        question = Question.objects.create(
            event=full,
            label_da="Hvad søger du?",
            label_en="What are you looking for?",
            kind=Question.Kind.MULTIPLE_CHOICE,
            required=True,
        )
        options = [
            QuestionOption.objects.create(question=question, label_da=da, label_en=en, ordering=n)
            for n, (da, en) in enumerate([("Partnere", "Partners"), ("Kunder", "Customers"), ("Kapital", "Capital")])
        ]
        Question.objects.create(
            event=full, label_da="Særlige hensyn (kost, adgang)", label_en="Special needs (diet, access)"
        )
        if member is not None:
            services.registration_create(
                event=full,
                full_name=member.full_name,
                email=member.email,
                language=member.preferred_language,
                user=member,
                is_member=True,
                answers={question.pk: [options[0].pk]},
            )
        for person in _people(rng, 12, full.slug):
            services.registration_create(event=full, answers={question.pk: [rng.choice(options).pk]}, **person)
        stdout.write(f"  full event {full.slug} (waitlist)")
