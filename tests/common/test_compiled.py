"""Queries built once with stand-ins and run with real values read what the ORM reads, and refuse shapes they
cannot run faithfully."""

import pytest
from django.db.models import Count

from common.compiled import Compiled, NotCompilable
from events.models import Event, Question
from tests.factories import EventFactory, EventQuestionFactory

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_compiled_query_reads_what_the_orm_reads_for_each_value():
    query = Compiled(lambda slug: Event.objects.filter(slug=slug).exclude(status="draft").order_by()[:2], slug="0s0")
    shown = EventFactory(slug="shown", reminder_offsets_hours=[48, 3])
    EventFactory(slug="hidden", status="draft")
    first = query(model=Event, slug="shown")
    assert [_fields(event) for event in first] == [_fields(Event.objects.get(pk=shown.pk))]
    assert first[0].reminder_offsets_hours == [48, 3]
    assert query(model=Event, slug="hidden") == []
    assert query(model=Event, slug="0s0") == []
    assert query(model=Event, slug="shown")[0].pk == shown.pk  # built once, run again


def test_related_ordering_and_repeated_values_are_kept():
    event = EventFactory()
    later = EventQuestionFactory(event=event, ordering=2)
    sooner = EventQuestionFactory(event=event, ordering=1)
    EventQuestionFactory()  # another event's
    query = Compiled(lambda event_id: Question.objects.filter(event_id=event_id), event_id=-1)
    assert [question.pk for question in query(model=Question, event_id=event.pk)] == [sooner.pk, later.pk]


def test_extra_values_are_read_in_the_same_round_trip_and_set_on_each_instance():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    asking, silent = EventFactory(slug="asking"), EventFactory(slug="silent")
    EventQuestionFactory(event=asking)
    query = Compiled(lambda slug: Event.objects.filter(slug=slug).order_by()[:2], slug="0s0")
    asks = "EXISTS (SELECT 1 FROM events_question WHERE events_question.event_id = compiled.id)"
    extra = {"asks": (asks, []), "label": ("CAST(%s AS text)", ["x%y"])}
    query(model=Event, extra=extra, slug="asking")  # on PostgreSQL, the session's first run prepares it
    with CaptureQueriesContext(connection) as queries:
        found = query(model=Event, extra=extra, slug="asking")
    assert len(queries.captured_queries) == 1
    assert [(event.pk, bool(event.asks), event.label) for event in found] == [(asking.pk, True, "x%y")]
    assert _fields(found[0]) == _fields(Event.objects.get(pk=asking.pk))
    (other,) = query(model=Event, extra=extra, slug="silent")
    assert (other.pk, bool(other.asks)) == (silent.pk, False)


def test_a_stand_in_that_does_not_reach_the_parameters_is_refused():
    as_given = Compiled(lambda slug: Event.objects.filter(slug__iexact=slug), slug="0S0")
    wrapped = Compiled(lambda slug: Event.objects.filter(slug__contains=slug), slug="0s0")  # the value gets %...%
    assert as_given(model=Event, slug="x") == []
    with pytest.raises(NotCompilable, match="did not reach"):
        wrapped(model=Event, slug="x")


def test_a_query_reading_more_than_its_models_fields_is_refused():
    query = Compiled(lambda slug: Event.objects.filter(slug=slug).annotate(n=Count("registrations")), slug="0s0")
    with pytest.raises(NotCompilable, match="reads its model's fields only"):
        query(model=Event, slug="x")
