"""A NUL character in any submitted value is refused once, for every view, with a translated 400: PostgreSQL cannot
store or compare one ("A string literal cannot contain NUL characters") and a view that passed it on answered 500."""

import pytest

from newsletters.models import Subscriber
from tests.factories import EventFactory, TopicFactory

pytestmark = pytest.mark.django_db

REFUSED = "Forespørgslen indeholdt et nul-tegn (NUL), som ikke er tilladt."


def test_check_in_search_with_a_nul_answers_400_in_danish(staff_client):
    event = EventFactory()
    response = staff_client.get(f"/da/events/{event.slug}/check-in/?q=%00")
    assert (response.status_code, REFUSED in response.text) == (400, True)


def test_a_nul_in_a_posted_value_saves_nothing(client):
    topic = TopicFactory()
    response = client.post(
        "/da/newsletter/subscribe/",
        {"email": "reader\x00@example.com", "language": "da", "topics": [topic.pk], "consent": "on"},
    )
    assert (response.status_code, REFUSED in response.text, Subscriber.objects.count()) == (400, True, 0)


def test_a_nul_in_a_parameter_name_answers_400(client):
    assert client.get("/en/events/?a%00b=1").status_code == 400


def test_a_nul_in_the_path_answers_400(client):
    assert client.get("/en/hubs/x%00y/").status_code == 400
