"""factory-boy factories shared across the test suite."""

import time
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
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


def staff_totp_activate(user) -> str:
    """Give a user an authenticator app the way allauth's activation view does; returns the secret, from which a
    test computes the current code."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now for this secret, computed with allauth's own helpers. Close to the
    end of a period the code would expire before the form is sent, so wait for the next one as a person would."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


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
