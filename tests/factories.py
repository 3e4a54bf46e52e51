"""factory-boy factories shared across the test suite."""

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
