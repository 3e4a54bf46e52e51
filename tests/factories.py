"""factory-boy factories shared across the test suite."""

import time
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.utils import timezone

from accounts.models import User
from events.models import MatchmakingConfig

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


# --- events -----------------------------------------------------------------------------------------------------


def event_hub(slug: str = "copenhagen"):
    """One of the hubs the data migration loads."""
    from hubs.models import Hub

    return Hub.objects.get(slug=slug)


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


# --- members ----------------------------------------------------------------------------------------


def cvr_valid(n: int) -> str:
    """A valid CVR number (modulus 11 with weights 2,7,6,5,4,3,2,1) derived from n."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    base = 2000000 + n * 13
    while True:
        digits = str(base)[:7]
        check = -sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
        if check < 10:
            return digits + str(check)
        base += 1


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Organisation"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Testfirma {n} ApS")
    legal_name = factory.LazyAttribute(lambda o: o.name)
    slug = factory.Sequence(lambda n: f"testfirma-{n}")
    cvr = factory.Sequence(cvr_valid)
    kind = "company"
    size_band = "10-49"
    city = "Aarhus"
    listed_in_directory = True


def _membership_type(slug="company"):
    from members.models import MembershipType

    return MembershipType.objects.get(slug=slug)


class MembershipTypeFactory(factory.django.DjangoModelFactory):
    """A type of its own (the reference types come from members/migrations/0008): all benefits unless told."""

    class Meta:
        model = "members.MembershipType"

    slug = factory.Sequence(lambda n: f"type-{n}")
    name_da = factory.Sequence(lambda n: f"Medlemstype {n}")
    name_en = factory.Sequence(lambda n: f"Membership type {n}")

    @factory.post_generation
    def flat_fee(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            from django.utils import timezone

            obj.fees.create(year=timezone.localdate().year, size_band="", amount=extracted)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Membership"

    organisation = factory.SubFactory(OrganisationFactory)
    membership_type = factory.LazyFunction(_membership_type)
    size_band = factory.LazyAttribute(lambda m: m.organisation.size_band)
    status = "active"
    period_start = factory.LazyFunction(lambda: _today() - _days(30))
    period_end = factory.LazyFunction(lambda: _today() + _days(335))
    fee_dkk = 7500
    paid_on = factory.LazyFunction(lambda: _today() - _days(29))


class OrganisationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.OrganisationRole"

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = "admin"


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _days(n):
    from datetime import timedelta

    return timedelta(days=n)


def member_organisation_create(**kwargs):
    """An organisation with an active, paid membership: a member the directory lists."""
    organisation = OrganisationFactory(**kwargs)
    MembershipFactory(organisation=organisation)
    return organisation


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "newsletters.Topic"
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name_da = factory.Sequence(lambda n: f"Emne {n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")


class SubscriberFactory(factory.django.DjangoModelFactory):
    """A confirmed subscriber unless told otherwise; pass topics=[...] to subscribe them."""

    class Meta:
        model = "newsletters.Subscriber"
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    name = factory.Faker("name")
    language = "da"
    status = "confirmed"
    confirmed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "newsletters.Campaign"
        skip_postgeneration_save = True

    subject_da = factory.Sequence(lambda n: f"Nyhedsbrev {n}")
    subject_en = factory.Sequence(lambda n: f"Newsletter {n}")
    body_da = "Hej **læser**.\n\n- Første punkt\n- Andet punkt\n"
    body_en = "Hello **reader**.\n\n- First item\n- Second item\n"

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


# --- matchmaking ------------------------------------------------------------------------------------------------


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
