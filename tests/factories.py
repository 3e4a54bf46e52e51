"""factory-boy factories shared across the test suite."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User

PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    preferred_language = "da"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=extracted is not False)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


# --- events -----------------------------------------------------------------------------------------------------


def event_hub(slug: str = "copenhagen"):
    """A hub by slug. Transactional tests flush the hubs the data migration made, so this recreates it."""
    from hubs.models import Hub

    hub, _ = Hub.objects.get_or_create(
        slug=slug,
        defaults={"name": slug.title(), "city": slug.title(), "is_headquarters": slug == "copenhagen"},
    )
    return hub


class EventFactory(factory.django.DjangoModelFactory):
    """A published public event two weeks ahead, registration open, unlimited unless `capacity` is given."""

    class Meta:
        model = "events.Event"

    slug = factory.Sequence(lambda n: f"event-{n}")
    title_da = factory.Sequence(lambda n: f"Arrangement {n}")
    title_en = factory.Sequence(lambda n: f"Event {n}")
    summary_da = "Et møde om life science."
    summary_en = "A meeting about life science."
    kind = "network_meeting"
    hub = factory.LazyFunction(event_hub)
    venue_name_da = "Symbion"
    venue_name_en = "Symbion"
    venue_address = "Fruebjergvej 3, 2100 København Ø"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    ends_at = factory.LazyAttribute(lambda event: event.starts_at + timedelta(hours=3))
    status = "published"
    capacity = None


class EventQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Question"

    event = factory.SubFactory(EventFactory)
    label_da = factory.Sequence(lambda n: f"Spørgsmål {n}")
    label_en = factory.Sequence(lambda n: f"Question {n}")
    kind = "text"
    required = False


class EventQuestionOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.QuestionOption"

    question = factory.SubFactory(EventQuestionFactory, kind="single")
    label_da = factory.Sequence(lambda n: f"Valg {n}")
    label_en = factory.Sequence(lambda n: f"Option {n}")


class EventRegistrationFactory(factory.django.DjangoModelFactory):
    """A row written directly, for reads and admin tests; seat logic is tested through the services."""

    class Meta:
        model = "events.Registration"

    event = factory.SubFactory(EventFactory)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"guest{n}@example.com")
    organisation_name = "Acme Bio ApS"
    language = "da"
    status = "confirmed"
    consent_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
