"""The meeting scheduler: properties under hypothesis and exact values on small hand-made events."""

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.matchmaking.scheduler import (
    STATUS_OPTIMAL,
    Meeting,
    Placement,
    Problem,
    ScheduleInputError,
    Slot,
    combinatorial_bound,
    fit_late_meeting,
    greedy_schedule,
    schedule,
)

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_session(count):
    return [Slot(id=f"s{i}", session="morning", index=i) for i in range(count)]


def assert_valid(problem, placements):
    meetings = {m.id: m for m in problem.meetings}
    tables = set(problem.tables)
    seats = Counter()
    for mid, placement in placements.items():
        meeting = meetings[mid]
        assert placement.table in tables
        seats[(placement.slot, "table", placement.table)] += 1
        for person in (meeting.a, meeting.b):
            assert placement.slot not in problem.unavailable.get(person, frozenset())
            seats[(placement.slot, "person", person)] += 1
    assert all(count == 1 for count in seats.values())


@st.composite
def problems(draw, *, with_fixed=True, max_meetings=9):
    people = list(range(draw(st.integers(2, 7))))
    sessions = draw(st.integers(1, 2))
    per_session = draw(st.integers(1, 3 if with_fixed else 2))
    slots = [Slot(id=f"{s}-{i}", session=s, index=i) for s in range(sessions) for i in range(per_session)]
    tables = list(range(1, draw(st.integers(1, 3)) + 1))
    pairs = list(itertools.combinations(people, 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=max_meetings))
    meetings = [Meeting(id=f"m{n}", a=a, b=b) for n, (a, b) in enumerate(chosen)]
    slot_ids = [s.id for s in slots]
    unavailable = {
        person: frozenset(draw(st.lists(st.sampled_from(slot_ids), unique=True, max_size=len(slot_ids) - 1)))
        for person in people
        if draw(st.booleans())
    }
    problem = Problem(participants=people, slots=slots, tables=tables, meetings=meetings, unavailable=unavailable)
    if with_fixed and meetings:
        # A valid schedule to draw locked and already placed meetings from, as staff would have them.
        start = list(greedy_schedule(problem).items())
        locked = dict(draw(st.lists(st.sampled_from(start), unique=True))) if start else {}
        placed = {mid: p for mid, p in start if mid not in locked and draw(st.booleans())}
        problem.locked = locked
        problem.placed = placed
        problem.allow_move = draw(st.booleans())
    return problem


def brute_force_maximum(problem):
    """The most meetings any valid schedule places, by trying every slot (or none) for every meeting. Fixed
    meetings (locked, or placed when nothing may move) keep their slot and count as placed."""
    fixed = dict(problem.locked)
    if not problem.allow_move:
        fixed.update({mid: p for mid, p in problem.placed.items() if mid not in fixed})
    slot_ids = [s.id for s in problem.slots]
    seats = Counter()
    for meeting in problem.meetings:
        if meeting.id in fixed:
            slot = fixed[meeting.id].slot
            seats[(slot, None)] += 1
            seats[(slot, meeting.a)] += 1
            seats[(slot, meeting.b)] += 1
    free = [m for m in problem.meetings if m.id not in fixed]

    def fits(meeting, slot):
        people = (meeting.a, meeting.b)
        return seats[(slot, None)] < len(problem.tables) and all(
            seats[(slot, p)] == 0 and slot not in problem.unavailable.get(p, frozenset()) for p in people
        )

    def best_from(n):
        if n == len(free):
            return 0
        meeting = free[n]
        best = best_from(n + 1)
        for slot in slot_ids:
            if fits(meeting, slot):
                keys = [(slot, None), (slot, meeting.a), (slot, meeting.b)]
                for key in keys:
                    seats[key] += 1
                best = max(best, 1 + best_from(n + 1))
                for key in keys:
                    seats[key] -= 1
        return best

    return len(fixed) + best_from(0)


@PROPERTY_SETTINGS
@given(problems())
def test_schedule_never_double_books_and_respects_availability_and_tables(problem):
    result = schedule(problem)
    assert_valid(problem, result.placements)


@PROPERTY_SETTINGS
@given(problems())
def test_schedule_keeps_locked_meetings_where_staff_put_them(problem):
    result = schedule(problem)
    assert {mid: result.placements[mid] for mid in problem.locked} == dict(problem.locked)


@PROPERTY_SETTINGS
@given(problems())
def test_schedule_without_allow_move_keeps_placed_meetings(problem):
    problem.allow_move = False
    result = schedule(problem)
    assert {mid: result.placements[mid] for mid in problem.placed} == dict(problem.placed)


@PROPERTY_SETTINGS
@given(problems(with_fixed=False, max_meetings=6))
def test_schedule_places_the_true_maximum_and_the_bound_holds(problem):
    maximum = brute_force_maximum(problem)
    result = schedule(problem)
    assert (result.placed_count, result.upper_bound >= maximum) == (maximum, True)


@PROPERTY_SETTINGS
@given(problems(max_meetings=7))
def test_with_fixed_meetings_the_schedule_places_the_true_maximum_and_every_bound_holds(problem):
    maximum = brute_force_maximum(problem)
    result = schedule(problem)
    assert (
        result.placed_count,
        result.upper_bound >= maximum,
        result.combinatorial_bound >= maximum,
        combinatorial_bound(problem) >= maximum,
    ) == (maximum, True, True, True)


@PROPERTY_SETTINGS
@given(problems())
def test_the_same_problem_gives_the_same_schedule(problem):
    first, second = schedule(problem), schedule(problem)
    assert (second.placements, second.gaps, second.status, second.work) == (
        first.placements,
        first.gaps,
        first.status,
        first.work,
    )


@PROPERTY_SETTINGS
@given(problems())
def test_greedy_fallback_is_valid(problem):
    assert_valid(problem, greedy_schedule(problem))


@PROPERTY_SETTINGS
@given(problems(), st.booleans())
def test_late_fit_never_moves_placed_meetings_unless_allowed(problem, allow_move):
    placed_ids = set(problem.placed) | set(problem.locked)
    late = [m for m in problem.meetings if m.id not in placed_ids]
    if not late:
        return
    problem.allow_move = allow_move
    fit = fit_late_meeting(problem, late[0].id)
    assert_valid(problem, fit.placements)
    before = {**problem.placed, **problem.locked}
    moved = {mid for mid, placement in before.items() if fit.placements.get(mid) != placement}
    assert (set(before) <= set(fit.placements), moved, set(fit.moved) & set(problem.locked)) == (
        True,
        set(fit.moved) if allow_move else set(),
        set(),
    )


def triangle(slot_count, tables=3):
    return Problem(
        participants=["ana", "bo", "cai"],
        slots=one_session(slot_count),
        tables=list(range(1, tables + 1)),
        meetings=[Meeting("ab", "ana", "bo"), Meeting("bc", "bo", "cai"), Meeting("ac", "ana", "cai")],
    )


def test_triangle_in_two_slots_places_exactly_two_and_proves_it():
    result = schedule(triangle(2))
    assert (result.placed_count, result.upper_bound, result.status) == (2, 2, STATUS_OPTIMAL)


def test_triangle_in_three_slots_places_all_three():
    assert schedule(triangle(3)).placed_count == 3


def test_table_count_limits_meetings_per_slot():
    problem = Problem(
        participants=list("abcdef"),
        slots=one_session(1),
        tables=[1, 2],
        meetings=[Meeting(1, "a", "b"), Meeting(2, "c", "d"), Meeting(3, "e", "f")],
    )
    result = schedule(problem)
    assert (result.placed_count, sorted(p.table for p in result.placements.values())) == (2, [1, 2])


def test_a_meeting_nobody_can_attend_is_not_placed_and_the_bound_says_so():
    problem = Problem(
        participants=["a", "b"],
        slots=one_session(2),
        tables=[1],
        meetings=[Meeting(1, "a", "b")],
        unavailable={"a": frozenset({"s0"}), "b": frozenset({"s1"})},
    )
    result = schedule(problem)
    assert (result.placements, result.upper_bound) == ({}, 0)


def test_meetings_sit_back_to_back_when_they_can():
    problem = Problem(
        participants=list("abcd"),
        slots=one_session(4),
        tables=[1],
        meetings=[Meeting(1, "a", "b"), Meeting(2, "a", "c"), Meeting(3, "a", "d")],
    )
    result = schedule(problem)
    assert (result.gaps, sorted(p.slot for p in result.placements.values())) in [
        (0, ["s0", "s1", "s2"]),
        (0, ["s1", "s2", "s3"]),
    ]


def test_an_unavoidable_gap_is_counted():
    problem = Problem(
        participants=list("abc"),
        slots=one_session(3),
        tables=[1],
        meetings=[Meeting(1, "a", "b"), Meeting(2, "a", "c")],
        unavailable={"b": frozenset({"s1", "s2"}), "c": frozenset({"s0", "s1"})},
    )
    assert schedule(problem).gaps == 1


def test_a_slot_marked_unavailable_between_meetings_is_not_an_idle_gap():
    problem = Problem(
        participants=list("abc"),
        slots=one_session(3),
        tables=[1],
        meetings=[Meeting(1, "a", "b"), Meeting(2, "a", "c")],
        unavailable={"a": frozenset({"s1"}), "b": frozenset({"s1", "s2"}), "c": frozenset({"s0", "s1"})},
    )
    assert schedule(problem).gaps == 0


def test_gaps_count_within_a_session_only():
    slots = [Slot("am", "morning", 0), Slot("pm", "afternoon", 0)]
    problem = Problem(
        participants=list("abc"),
        slots=slots,
        tables=[1],
        meetings=[Meeting(1, "a", "b"), Meeting(2, "a", "c")],
    )
    result = schedule(problem)
    assert (result.placed_count, result.gaps) == (2, 0)


def test_a_locked_meeting_keeps_its_slot_and_table():
    problem = triangle(3)
    problem.locked = {"ab": Placement("s2", 3)}
    assert schedule(problem).placements["ab"] == Placement("s2", 3)


def test_a_rerun_keeps_a_placed_meeting_where_it_was_when_nothing_is_gained_by_moving():
    problem = Problem(participants=["a", "b"], slots=one_session(3), tables=[1, 2, 3], meetings=[Meeting(1, "a", "b")])
    problem.placed = {1: Placement("s1", 3)}
    assert schedule(problem).placements == {1: Placement("s1", 3)}


def test_locked_meetings_that_double_book_someone_are_refused():
    problem = triangle(2)
    problem.locked = {"ab": Placement("s0", 1), "bc": Placement("s0", 2)}
    with pytest.raises(ScheduleInputError):
        schedule(problem)


def test_a_locked_meeting_in_a_slot_someone_cannot_take_is_refused():
    problem = triangle(2)
    problem.unavailable = {"ana": frozenset({"s0"})}
    problem.locked = {"ab": Placement("s0", 1)}
    with pytest.raises(ScheduleInputError):
        schedule(problem)


def late_problem(*, allow_move):
    return Problem(
        participants=list("abc"),
        slots=one_session(2),
        tables=[1],
        meetings=[Meeting("ab", "a", "b"), Meeting("ac", "a", "c")],
        unavailable={"c": frozenset({"s1"})},
        placed={"ab": Placement("s0", 1)},
        allow_move=allow_move,
    )


def test_late_fit_without_moves_leaves_a_meeting_out_rather_than_move_another():
    fit = fit_late_meeting(late_problem(allow_move=False), "ac")
    assert (fit.placement, fit.placements, fit.moved) == (None, {"ab": Placement("s0", 1)}, [])


def test_late_fit_with_moves_allowed_moves_one_meeting_to_make_room():
    fit = fit_late_meeting(late_problem(allow_move=True), "ac")
    assert (fit.placement, fit.placements["ab"], fit.moved) == (Placement("s0", 1), Placement("s1", 1), ["ab"])


def test_late_fit_takes_a_free_slot_next_to_the_existing_meeting():
    problem = Problem(
        participants=list("abc"),
        slots=one_session(4),
        tables=[1, 2],
        meetings=[Meeting("ab", "a", "b"), Meeting("ac", "a", "c")],
        placed={"ab": Placement("s2", 2)},
        allow_move=False,
    )
    fit = fit_late_meeting(problem, "ac")
    assert (fit.placement.slot, fit.placements["ab"]) in [("s1", Placement("s2", 2)), ("s3", Placement("s2", 2))]


def test_late_fit_refuses_a_meeting_that_is_already_placed():
    with pytest.raises(ScheduleInputError):
        fit_late_meeting(late_problem(allow_move=False), "ab")


def test_combinatorial_bound_counts_a_popular_persons_slots():
    problem = Problem(
        participants=["star", *range(10)],
        slots=one_session(3),
        tables=list(range(1, 11)),
        meetings=[Meeting(n, "star", n) for n in range(10)],
    )
    assert combinatorial_bound(problem) == 3


def test_schedule_never_places_a_meeting_in_a_slot_that_has_begun():
    problem = Problem(
        participants=["a", "b"],
        slots=one_session(2),
        tables=[1],
        meetings=[Meeting(id="m", a="a", b="b")],
        started=frozenset({"s0"}),
    )
    assert schedule(problem).placements == {"m": Placement(slot="s1", table=1)}


def test_schedule_leaves_a_meeting_unplaced_when_every_slot_has_begun():
    problem = Problem(
        participants=["a", "b"],
        slots=one_session(2),
        tables=[1],
        meetings=[Meeting(id="m", a="a", b="b")],
        started=frozenset({"s0", "s1"}),
    )
    assert (schedule(problem).placements, greedy_schedule(problem)) == ({}, {})


def test_a_meeting_in_a_slot_that_has_begun_stays_there_even_when_moves_are_allowed():
    problem = Problem(
        participants=["a", "b", "c"],
        slots=one_session(3),
        tables=[1],
        meetings=[Meeting(id="held", a="a", b="b"), Meeting(id="new", a="a", b="c")],
        placed={"held": Placement(slot="s1", table=1)},
        started=frozenset({"s0", "s1"}),
        allow_move=True,
    )
    assert schedule(problem).placements == {
        "held": Placement(slot="s1", table=1),
        "new": Placement(slot="s2", table=1),
    }


def test_a_late_fit_skips_slots_that_have_begun():
    problem = Problem(
        participants=["a", "b"],
        slots=one_session(3),
        tables=[1],
        meetings=[Meeting(id="late", a="a", b="b")],
        started=frozenset({"s0"}),
        allow_move=False,
    )
    assert fit_late_meeting(problem, "late").placement == Placement(slot="s1", table=1)
