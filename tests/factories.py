"""factory-boy factories shared across the test suite."""

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from events.matchmaking.models import MatchmakingConfig

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


class MatchmakingHubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "hubs.Hub"

    slug = factory.Sequence(lambda n: f"matchmaking-hub-{n}")
    name = factory.Sequence(lambda n: f"Hub {n}")
    city = "Odense"


class MatchmakingEventFactory(factory.django.DjangoModelFactory):
    """A published matchmaking event with matchmaking switched on (an enabled MatchmakingConfig)."""

    class Meta:
        model = "events.Event"
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"meet-and-match-{n}")
    title = factory.Sequence(lambda n: f"Meet and match {n}")
    kind = "matchmaking"
    status = "published"
    hub = factory.SubFactory(MatchmakingHubFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0) + timedelta(days=10))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=6))

    @factory.post_generation
    def matchmaking(self, create, extracted, **kwargs):
        if create:
            MatchmakingConfig.objects.create(event=self, **{"tables": 3, **kwargs})


class MatchmakingRegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Registration"

    event = factory.SubFactory(MatchmakingEventFactory)
    user = factory.SubFactory(UserFactory)
    full_name = factory.LazyAttribute(lambda o: o.user.full_name)
    email = factory.LazyAttribute(lambda o: o.user.email)
    language = "da"
    status = "confirmed"
    confirmed_at = factory.LazyFunction(timezone.now)
    consent_at = factory.LazyFunction(timezone.now)


def matchmaking_profile(*, event, **registration_fields):
    """A confirmed participant with a profile, made through the service as the site makes them."""
    from events.matchmaking.services import profile_create

    return profile_create(registration=MatchmakingRegistrationFactory(event=event, **registration_fields))
