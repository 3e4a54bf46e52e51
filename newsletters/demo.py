"""Demo newsletter data: topics, about thirty subscribers in every state, two sent campaigns and a draft.
Idempotent; built through the subscriptions."""

from datetime import timedelta

from django.utils import timezone

from hubs.models import Hub
from newsletters import campaigns, subscriptions
from newsletters.models import Campaign, ConsentRecord, Subscriber, Topic
from outbox import api as outbox

TOPICS = [
    (
        "general",
        "Nyhedsbrevet",
        "The newsletter",
        "Nyt fra klyngen hver måned.",
        "News from the cluster monthly.",
        True,
    ),
    ("events", "Arrangementer", "Events digest", "Kommende arrangementer.", "Upcoming events.", False),
]
FIRST_NAMES = ["Anna", "Bo", "Cecilie", "Dan", "Emma", "Frederik", "Gry", "Hans", "Ida", "Jens", "Karen", "Lars"]
LAST_NAMES = ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"]
CAMPAIGNS = [
    {
        "subject_da": "Nyt fra DLSC: matchmaking i Odense",
        "subject_en": "News from DLSC: matchmaking in Odense",
        "body_da": "Kære læser,\n\nVi samler virksomheder, forskere og sundhedsvæsenet i **Odense** til en dag med "
        "matchmaking.\n\n- Korte møder på 20 minutter\n- Workshops om velfærdsteknologi\n\nVi ses!",
        "body_en": "Dear reader,\n\nWe bring companies, researchers and the health sector together in **Odense** "
        "for a day of matchmaking.\n\n- Short meetings of 20 minutes\n- Workshops on welfare technology\n\nSee you!",
        "days_ago": 40,
    },
    {
        "subject_da": "Nyt fra DLSC: nye medlemmer og hubs",
        "subject_en": "News from DLSC: new members and hubs",
        "body_da": "Kære læser,\n\nKlyngen har fået **12 nye medlemmer** i dette kvartal, og Aalborg-hubben "
        "åbner nye lokaler.",
        "body_en": "Dear reader,\n\nThe cluster welcomed **12 new members** this quarter, and the Aalborg hub "
        "opens new offices.",
        "days_ago": 10,
    },
]


def _topics(stdout) -> list[Topic]:
    for slug, name_da, name_en, description_da, description_en, is_default in TOPICS:
        if not Topic.objects.filter(slug=slug).exists():
            Topic.objects.create(
                slug=slug,
                name_da=name_da,
                name_en=name_en,
                description_da=description_da,
                description_en=description_en,
                is_default=is_default,
                ordering=len(slug),
            )
            stdout.write(f"  topic {slug}")
    for order, hub in enumerate(Hub.objects.all(), start=10):
        slug = f"hub-{hub.slug}"
        if not Topic.objects.filter(slug=slug).exists():
            Topic.objects.create(
                slug=slug,
                name_da=f"Nyt fra {hub.name}",
                name_en=f"News from {hub.name}",
                hub=hub,
                ordering=order,
            )
    return list(Topic.objects.all())


def _subscribers(*, rng, topics, stdout) -> None:
    if Subscriber.objects.exists():
        return
    states = ["confirmed"] * 20 + ["pending"] * 4 + ["unsubscribed"] * 3 + ["bounced"] * 2 + ["complained"]
    for number, state in enumerate(states):
        email = f"reader{number + 1}@demo.dlsc.example"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        chosen = rng.sample(topics, k=rng.randint(1, min(3, len(topics))))
        subscriber = subscriptions.subscription_request(
            email=email,
            name=name,
            language=rng.choice(["da", "da", "en"]),
            topics=[topic.slug for topic in chosen],
            source=rng.choice([ConsentRecord.Source.FORM, ConsentRecord.Source.EVENT]),
            ip_address=f"192.0.2.{number + 1}",
        )
        if state == "pending":
            continue
        token = subscriptions.subscriber_token(subscriber=subscriber, salt=subscriptions.CONFIRM_SALT)
        subscriptions.subscription_confirm(token=token, ip_address=f"192.0.2.{number + 1}")
        if state == "unsubscribed":
            subscriptions.subscriber_unsubscribe(
                subscriber=subscriber, source=ConsentRecord.Source.EMAIL_LINK, ip_address=None
            )
        elif state in ("bounced", "complained"):
            subscriptions.subscriber_mark_undeliverable(
                email=email, status=state, source=ConsentRecord.Source.MAIL_PROVIDER, note="demo"
            )
    stdout.write(f"  {len(states)} subscribers")


def _campaigns(*, topics, stdout) -> None:
    general = next(topic for topic in topics if topic.slug == "general")
    for spec in CAMPAIGNS:
        if Campaign.objects.filter(subject_da=spec["subject_da"]).exists():
            continue
        fields = {key: value for key, value in spec.items() if key != "days_ago"}
        campaign = Campaign.objects.create(**fields)
        campaign.topics.set([general])
        campaigns.campaign_start(campaign_id=campaign.pk)
        # Demo history: these went out weeks ago, so their copies are shown as delivered rather than mailed now.
        sent_at = timezone.now() - timedelta(days=spec["days_ago"])
        outbox.group_mark_sent(group=campaigns.campaign_group(campaign_id=campaign.pk), sent_at=sent_at)
        campaigns.campaign_finish_if_done(campaign_id=campaign.pk)
        Campaign.objects.filter(pk=campaign.pk).update(started_at=sent_at, finished_at=sent_at)
        stdout.write(f"  sent campaign {spec['subject_en']}")
    if not Campaign.objects.filter(status=Campaign.Status.DRAFT).exists():
        draft = Campaign.objects.create(
            subject_da="Udkast: årets sidste nyhedsbrev",
            subject_en="Draft: the last newsletter of the year",
            body_da="Kære læser,\n\nTak for et godt år i klyngen.",
            body_en="Dear reader,\n\nThank you for a good year in the cluster.",
        )
        draft.topics.set([general])
        stdout.write("  draft campaign")


def seed(*, rng, stdout) -> None:
    topics = _topics(stdout)
    _subscribers(rng=rng, topics=topics, stdout=stdout)
    _campaigns(topics=topics, stdout=stdout)
