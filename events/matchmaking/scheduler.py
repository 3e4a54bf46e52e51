"""Places accepted one-to-one meetings on (slot, table): CP-SAT under a deterministic work limit, with a greedy
fallback.

Pure Python on plain dataclasses, so it is tested and benchmarked without Django. The model has one boolean
per meeting and feasible slot (both sides available, neither held by a fixed meeting); tables are a count per
slot in the model and are numbered afterwards, keeping a meeting's table when it stays in its slot.

It solves in two phases: first the number of placed meetings is maximised (its best bound is the proven upper
bound), then, with that number held, idle gaps are minimised and, among equal schedules, placed meetings are
kept where they were.

The search is bounded by CP-SAT's deterministic time (`work`, a count of work units, the same on any machine and
under any load), with a fixed seed and one search worker by default, so the same problem always gives the same
schedule. The wall-clock `time_limit` is only a safety net for a machine far slower than expected.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

STATUS_OPTIMAL = "optimal"
STATUS_FEASIBLE = "feasible"
STATUS_GREEDY = "greedy"

# CP-SAT's deterministic seconds per run: enough for an event of 1,500 meetings to reach its bound and cut most
# idle gaps (10-30 s of wall time on a 2-core machine); a small event stops long before, at its proven optimum.
DEFAULT_WORK = 5.0
# The wall-clock safety net; reached only on a machine far slower than the work limit assumes.
DEFAULT_TIME_LIMIT = 120.0
# At most this share of the work goes to the slot-free relaxation, then this share of the rest to the count phase;
# the gap phase gets all that is left, so work one phase did not need goes to the next.
RELAXATION_SHARE = 0.25
COUNT_SHARE = 0.5


class ScheduleInputError(ValueError):
    """The problem contradicts itself (e.g. two fixed meetings put one person in one slot twice)."""


@dataclass(frozen=True)
class Slot:
    id: Hashable
    session: Hashable
    index: int


@dataclass(frozen=True)
class Meeting:
    id: Hashable
    a: Hashable
    b: Hashable


@dataclass(frozen=True)
class Placement:
    slot: Hashable
    table: Hashable


@dataclass
class Problem:
    participants: Sequence[Hashable]
    slots: Sequence[Slot]
    tables: Sequence[Hashable]
    meetings: Sequence[Meeting]
    unavailable: Mapping[Hashable, frozenset] = field(default_factory=dict)
    locked: Mapping[Hashable, Placement] = field(default_factory=dict)
    placed: Mapping[Hashable, Placement] = field(default_factory=dict)
    allow_move: bool = True
    # Slots that have already begun: nothing new goes there, and a meeting placed there stays where it is.
    started: frozenset = frozenset()


@dataclass
class ScheduleResult:
    placements: dict[Hashable, Placement]
    status: str
    upper_bound: int
    solver_bound: int | None
    combinatorial_bound: int
    gaps: int
    seconds: float
    # CP-SAT's deterministic seconds spent: the machine-independent measure of the search.
    work: float = 0.0

    @property
    def placed_count(self) -> int:
        return len(self.placements)


class _Index:
    """The problem as integer-indexed lists, validated once and shared by the solver, greedy and bounds."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.slots = sorted(problem.slots, key=lambda s: (str(s.session), s.index))
        self.slot_pos = {s.id: i for i, s in enumerate(self.slots)}
        if len(self.slot_pos) != len(self.slots):
            raise ScheduleInputError("slot ids must be unique")
        self.tables = list(problem.tables)
        self.table_set = table_set = set(self.tables)
        people = set(problem.participants)
        self.meetings = list(problem.meetings)
        if len({m.id for m in self.meetings}) != len(self.meetings):
            raise ScheduleInputError("meeting ids must be unique")
        for m in self.meetings:
            if m.a == m.b or m.a not in people or m.b not in people:
                raise ScheduleInputError(f"meeting {m.id!r} needs two distinct participants")
        self.available = {
            p: [i for i, s in enumerate(self.slots) if s.id not in problem.unavailable.get(p, frozenset())]
            for p in people
        }
        self.fixed = dict(problem.locked)
        for mid, placement in problem.placed.items():
            if not problem.allow_move or placement.slot in problem.started:
                self.fixed.setdefault(mid, placement)
        self.started = {self.slot_pos[s] for s in problem.started if s in self.slot_pos}
        meeting_by_id = {m.id: m for m in self.meetings}
        self.busy: dict[Hashable, set[int]] = defaultdict(set)
        self.tables_taken: dict[int, set] = defaultdict(set)
        for mid, placement in self.fixed.items():
            if mid not in meeting_by_id:
                raise ScheduleInputError(f"fixed meeting {mid!r} is not among the meetings")
            if placement.slot not in self.slot_pos or placement.table not in table_set:
                raise ScheduleInputError(f"fixed meeting {mid!r} has an unknown slot or table")
            pos = self.slot_pos[placement.slot]
            if placement.table in self.tables_taken[pos]:
                raise ScheduleInputError(f"fixed meeting {mid!r} shares a table with another fixed meeting")
            self.tables_taken[pos].add(placement.table)
            for person in (meeting_by_id[mid].a, meeting_by_id[mid].b):
                if pos in self.busy[person]:
                    raise ScheduleInputError(f"fixed meeting {mid!r} double-books {person!r}")
                if pos not in self.available[person]:
                    raise ScheduleInputError(f"fixed meeting {mid!r} is in a slot {person!r} cannot take")
                self.busy[person].add(pos)
        self.free = [m for m in self.meetings if m.id not in self.fixed]
        self.capacity = [len(self.tables) - len(self.tables_taken[i]) for i in range(len(self.slots))]
        self.candidates = {
            m.id: [
                i
                for i in sorted(set(self.available[m.a]) & set(self.available[m.b]))
                if i not in self.busy[m.a]
                and i not in self.busy[m.b]
                and self.capacity[i] > 0
                and i not in self.started
            ]
            for m in self.free
        }
        self.previous = {
            mid: self.slot_pos[p.slot]
            for mid, p in problem.placed.items()
            if mid not in self.fixed and p.slot in self.slot_pos
        }

    def person_session_ranks(self) -> dict[tuple[Hashable, Hashable], dict[int, int]]:
        """For each person and session, the rank of each slot they can take: gaps are counted in these ranks,
        so a slot someone marked unavailable between two meetings is not an idle gap."""
        ranks: dict[tuple[Hashable, Hashable], dict[int, int]] = {}
        for person, positions in self.available.items():
            for pos in positions:
                key = (person, self.slots[pos].session)
                bucket = ranks.setdefault(key, {})
                bucket[pos] = len(bucket)
        return ranks

    def count_gaps(self, slot_of: Mapping[Hashable, int]) -> int:
        meeting_by_id = {m.id: m for m in self.meetings}
        busy: dict[tuple[Hashable, Hashable], set[int]] = defaultdict(set)
        for mid, pos in slot_of.items():
            m = meeting_by_id[mid]
            for person in (m.a, m.b):
                busy[(person, self.slots[pos].session)].add(pos)
        ranks = self.person_session_ranks()
        total = 0
        for key, positions in busy.items():
            used = sorted(ranks[key][p] for p in positions)
            total += used[-1] - used[0] + 1 - len(used)
        return total

    def assign_tables(self, slot_of: Mapping[Hashable, int]) -> dict[Hashable, Placement]:
        placements = dict(self.fixed)
        taken = {pos: set(tables) for pos, tables in self.tables_taken.items()}
        movers = []
        for mid, pos in slot_of.items():
            if mid in self.fixed:
                continue
            before = self.problem.placed.get(mid)
            if (
                before is not None
                and self.previous.get(mid) == pos
                and before.table in self.table_set
                and before.table not in taken.setdefault(pos, set())
            ):
                taken[pos].add(before.table)
                placements[mid] = before
            else:
                movers.append((mid, pos))
        for mid, pos in movers:
            table = next(t for t in self.tables if t not in taken.setdefault(pos, set()))
            taken[pos].add(table)
            placements[mid] = Placement(slot=self.slots[pos].id, table=table)
        return placements


def combinatorial_bound(problem: Problem) -> int:
    """A proven upper bound on placed meetings from per-person slot limits and table counts.

    For any set C of people, every placed meeting either has a member of C (at most the slots C can take) or
    lies wholly outside C: placed <= sum(cap(p) for p in C) + meetings outside C. C is grown and shrunk
    greedily while that sum falls; the table count per slot and the people free per slot bound it too.
    """
    index = _Index(problem)
    cap = {p: len(slots) for p, slots in index.available.items()}
    incident: dict[Hashable, list[Meeting]] = defaultdict(list)
    for m in index.meetings:
        incident[m.a].append(m)
        incident[m.b].append(m)
    in_cover: set[Hashable] = set()

    def gain(person: Hashable) -> int:
        outside = sum(1 for m in incident[person] if (m.b if m.a == person else m.a) not in in_cover)
        return outside - cap[person] if person not in in_cover else cap[person] - outside

    improved = True
    while improved:
        improved = False
        for person in sorted(incident, key=lambda p: cap[p] - len(incident[p])):
            if gain(person) > 0:
                in_cover.symmetric_difference_update({person})
                improved = True
    cover_bound = sum(cap[p] for p in in_cover) + sum(
        1 for m in index.meetings if m.a not in in_cover and m.b not in in_cover
    )
    per_slot = 0
    for pos in range(len(index.slots)):
        free_people = sum(1 for p, slots in index.available.items() if pos in slots and incident[p])
        per_slot += min(len(index.tables), free_people // 2)
    return min(cover_bound, per_slot, len(index.meetings))


def _limit(solver: cp_model.CpSolver, *, work: float, seconds: float, workers: int, seed: int) -> None:
    solver.parameters.max_deterministic_time = max(work, 0.001)
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.num_workers = workers
    # With several workers CP-SAT stays deterministic only when they take turns.
    solver.parameters.interleave_search = workers > 1
    solver.parameters.random_seed = seed


def _add_work(used: float, more: float) -> float:
    # CP-SAT's deterministic time differs between runs in its last float bits; rounded, the sum is reproducible.
    return round(used + more, 6)


def _b_matching(
    index: _Index, *, work: float, seconds: float, workers: int, seed: int
) -> tuple[set[Hashable], int | None, float]:
    """The most meetings that per-person slot counts and the table total allow, ignoring which slot is which.

    Returns the chosen meetings, a proven bound on placeable free meetings (None when the solver had no answer
    within its work) and the work it used. This relaxation solves in milliseconds and its choice is an excellent
    order for the greedy.
    """
    model = cp_model.CpModel()
    chosen = {m.id: model.new_bool_var(f"y_{n}") for n, m in enumerate(index.free) if index.candidates[m.id]}
    by_person: dict[Hashable, list] = defaultdict(list)
    for m in index.free:
        if m.id in chosen:
            by_person[m.a].append(chosen[m.id])
            by_person[m.b].append(chosen[m.id])
    for person, variables in by_person.items():
        free_slots = {pos for m in index.free if person in (m.a, m.b) for pos in index.candidates[m.id]}
        if len(variables) > len(free_slots):
            model.add(sum(variables) <= len(free_slots))
    model.add(sum(chosen.values()) <= sum(index.capacity))
    model.maximize(sum(chosen.values()))
    solver = cp_model.CpSolver()
    _limit(solver, work=work, seconds=seconds, workers=workers, seed=seed)
    outcome = solver.solve(model)
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return set(), None, _add_work(0, solver.deterministic_time)
    chosen_ids = {mid for mid, var in chosen.items() if solver.boolean_value(var)}
    return chosen_ids, int(solver.best_objective_bound), _add_work(0, solver.deterministic_time)


def _greedy_slots(index: _Index, *, first: frozenset = frozenset()) -> dict[Hashable, int]:
    """Meetings in `first` before the rest, most-constrained first within each; each takes the slot that adds
    the fewest idle gaps for both sides."""
    busy = {p: set(s) for p, s in index.busy.items()}
    load = list(index.capacity)
    demand: dict[Hashable, int] = defaultdict(int)
    for m in index.free:
        demand[m.a] += 1
        demand[m.b] += 1
    ranks = index.person_session_ranks()
    order = sorted(
        index.free,
        key=lambda m: (m.id not in first, len(index.candidates[m.id]), -max(demand[m.a], demand[m.b]), str(m.id)),
    )
    slot_of: dict[Hashable, int] = {}

    def distance(person: Hashable, pos: int) -> int:
        session = index.slots[pos].session
        mine = [q for q in busy.get(person, ()) if index.slots[q].session == session]
        if not mine:
            return 1
        rank = ranks[(person, session)]
        return min(abs(rank[pos] - rank[q]) for q in mine) - 1

    for m in order:
        options = [
            pos
            for pos in index.candidates[m.id]
            if load[pos] > 0 and pos not in busy.get(m.a, ()) and pos not in busy.get(m.b, ())
        ]
        if not options:
            continue
        previous = index.previous.get(m.id)
        pos = min(options, key=lambda q: (q != previous, distance(m.a, q) + distance(m.b, q), -load[q], q))
        slot_of[m.id] = pos
        load[pos] -= 1
        busy.setdefault(m.a, set()).add(pos)
        busy.setdefault(m.b, set()).add(pos)
    return slot_of


def _all_slots(index: _Index, free_slots: Mapping[Hashable, int]) -> dict[Hashable, int]:
    slot_of = {mid: index.slot_pos[p.slot] for mid, p in index.fixed.items()}
    slot_of.update(free_slots)
    return slot_of


class _Model:
    def __init__(self, index: _Index, *, must_place: frozenset = frozenset()):
        self.index = index
        self.model = cp_model.CpModel()
        self.x: dict[tuple[Hashable, int], cp_model.IntVar] = {}
        self.placed_of: dict[Hashable, list] = {}
        by_person_slot: dict[tuple[Hashable, int], list] = defaultdict(list)
        by_slot: dict[int, list] = defaultdict(list)
        for m in index.free:
            variables = []
            for pos in index.candidates[m.id]:
                var = self.model.new_bool_var(f"x_{len(self.x)}")
                self.x[(m.id, pos)] = var
                variables.append(var)
                by_person_slot[(m.a, pos)].append(var)
                by_person_slot[(m.b, pos)].append(var)
                by_slot[pos].append(var)
            self.placed_of[m.id] = variables
            if m.id in must_place:
                self.model.add_exactly_one(variables)
            elif len(variables) > 1:
                self.model.add_at_most_one(variables)
        for variables in by_person_slot.values():
            if len(variables) > 1:
                self.model.add_at_most_one(variables)
        for pos, variables in by_slot.items():
            if len(variables) > index.capacity[pos]:
                self.model.add(sum(variables) <= index.capacity[pos])
        self.by_person_slot = by_person_slot
        self.placed_count = sum(v for vs in self.placed_of.values() for v in vs)
        # (first, last, gaps, top, {rank: slot position}) per person and session, for a complete hint.
        self.gap_vars: list[tuple] = []

    def gap_expression(self):
        """Sum over people and sessions of (last rank - first rank + 1 - meetings), the idle slots between."""
        index = self.index
        terms = []
        for (person, _session), rank in index.person_session_ranks().items():
            busy_terms = []
            fixed_ranks = []
            for pos, r in rank.items():
                if pos in index.busy.get(person, ()):
                    fixed_ranks.append(r)
                elif (person, pos) in self.by_person_slot:
                    busy_terms.append((r, sum(self.by_person_slot[(person, pos)])))
            if len(busy_terms) + len(fixed_ranks) < 2 or not busy_terms:
                continue
            top = len(rank) - 1
            first = self.model.new_int_var(0, top, "first")
            last = self.model.new_int_var(0, top, "last")
            # expr is 0 or 1 (one meeting per person and slot), so big-M with the rank range binds only when busy.
            for r, expr in busy_terms:
                self.model.add(first <= r + top * (1 - expr))
                self.model.add(last >= r - top * (1 - expr))
            for r in fixed_ranks:
                self.model.add(first <= r)
                self.model.add(last >= r)
            gaps = self.model.new_int_var(0, top, "gaps")
            count = sum(expr for _, expr in busy_terms) + len(fixed_ranks)
            self.model.add(gaps >= last - first + 1 - count)
            terms.append(gaps)
            self.gap_vars.append((first, last, gaps, top, person, rank))
        return sum(terms)

    def hint(self, slot_of: Mapping[Hashable, int]) -> None:
        """Hint a whole solution, gap variables too: a complete hint is a solution from the first moment, so even
        a search stopped early returns something at least as good."""
        for (mid, pos), var in self.x.items():
            self.model.add_hint(var, slot_of.get(mid) == pos)
        if not self.gap_vars:
            return
        meeting_by_id = {m.id: m for m in self.index.meetings}
        busy: dict[Hashable, set[int]] = defaultdict(set)
        for mid, pos in _all_slots(self.index, slot_of).items():
            busy[meeting_by_id[mid].a].add(pos)
            busy[meeting_by_id[mid].b].add(pos)
        for first, last, gaps, top, person, rank in self.gap_vars:
            used = sorted(r for pos, r in rank.items() if pos in busy[person])
            low, high = (used[0], used[-1]) if used else (top, 0)
            self.model.add_hint(first, low)
            self.model.add_hint(last, high)
            self.model.add_hint(gaps, max(high - low + 1 - len(used), 0))

    def solve(self, *, work: float, seconds: float, workers: int, seed: int):
        solver = cp_model.CpSolver()
        _limit(solver, work=work, seconds=seconds, workers=workers, seed=seed)
        status = solver.solve(self.model)
        return solver, status

    def read(self, solver) -> dict[Hashable, int]:
        return {mid: pos for (mid, pos), var in self.x.items() if solver.boolean_value(var)}


def schedule(
    problem: Problem,
    *,
    work: float = DEFAULT_WORK,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = 1,
    seed: int = 0,
) -> ScheduleResult:
    """Place as many accepted meetings as possible, then as few idle gaps as possible.

    Locked meetings (and, without allow_move, already placed ones) keep their (slot, table). Raises
    ScheduleInputError when those fixed placements contradict each other or the availability. The same problem,
    work, workers and seed give the same result, unless the wall-clock `time_limit` cut the search short.
    """
    started = time.monotonic()

    def left() -> float:
        return time_limit - (time.monotonic() - started)

    index = _Index(problem)
    bound = combinatorial_bound(problem)
    selection, relaxed_bound, used = _b_matching(
        index, work=work * RELAXATION_SHARE, seconds=left(), workers=workers, seed=seed
    )
    if relaxed_bound is not None:
        bound = min(bound, len(index.fixed) + relaxed_bound)
    greedy = _greedy_slots(index, first=frozenset(selection))
    best, status, solver_bound = greedy, STATUS_GREEDY, None

    if len(index.fixed) + len(greedy) >= bound:
        # The greedy already reached the proven bound: no search can place more.
        status = STATUS_OPTIMAL
    else:
        count_model = _Model(index)
        # The proven bound as a constraint lets the solver stop as soon as it reaches it, leaving work for gaps.
        count_model.model.add(count_model.placed_count <= bound - len(index.fixed))
        count_model.model.maximize(count_model.placed_count)
        count_model.hint(greedy)
        solver, outcome = count_model.solve(
            work=(work - used) * COUNT_SHARE, seconds=left(), workers=workers, seed=seed
        )
        used = _add_work(used, solver.deterministic_time)
        if outcome in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = count_model.read(solver)
            solver_bound = len(index.fixed) + round(solver.best_objective_bound)
            if len(found) >= len(best):
                best = found
                status = STATUS_OPTIMAL if outcome == cp_model.OPTIMAL else STATUS_FEASIBLE
            if len(index.fixed) + len(best) >= bound:
                status = STATUS_OPTIMAL

    if status != STATUS_GREEDY and left() > 0:
        gap_model = _Model(index)
        gap_model.model.add(gap_model.placed_count >= len(best))
        moves = [1 - gap_model.x[(mid, pos)] for mid, pos in index.previous.items() if (mid, pos) in gap_model.x]
        weight = len(moves) + 1
        gap_model.model.minimize(weight * gap_model.gap_expression() + sum(moves))
        gap_model.hint(best)
        solver, outcome = gap_model.solve(work=work - used, seconds=left(), workers=workers, seed=seed)
        used = _add_work(used, solver.deterministic_time)
        if outcome in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            best = gap_model.read(solver)

    slot_of = _all_slots(index, best)
    upper = bound if solver_bound is None else min(bound, solver_bound)
    return ScheduleResult(
        placements=index.assign_tables(slot_of),
        status=status,
        upper_bound=upper,
        solver_bound=solver_bound,
        combinatorial_bound=bound,
        gaps=index.count_gaps(slot_of),
        seconds=time.monotonic() - started,
        work=used,
    )


def greedy_schedule(problem: Problem) -> dict[Hashable, Placement]:
    """The fallback on its own: no solver, no time limit, the same rules."""
    index = _Index(problem)
    return index.assign_tables(_all_slots(index, _greedy_slots(index)))


@dataclass
class LateFit:
    placements: dict[Hashable, Placement]
    placement: Placement | None
    moved: list[Hashable]


def fit_late_meeting(
    problem: Problem,
    meeting_id: Hashable,
    *,
    work: float = DEFAULT_WORK / 2,
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = 1,
    seed: int = 0,
) -> LateFit:
    """Fit one newly accepted meeting into an existing schedule (problem.placed).

    Without allow_move nothing placed moves: the meeting takes the free (slot, table) that adds the fewest gaps,
    or stays unplaced. With allow_move, every placed meeting stays placed but unlocked ones may change slot;
    the solver places the newcomer while moving as few meetings as it can.
    """
    current = {mid: p for mid, p in problem.placed.items() if mid != meeting_id}
    if meeting_id not in {m.id for m in problem.meetings}:
        raise ScheduleInputError(f"meeting {meeting_id!r} is not among the meetings")
    if meeting_id in problem.locked or meeting_id in problem.placed:
        raise ScheduleInputError(f"meeting {meeting_id!r} is already placed")
    placed_ids = set(current) | set(problem.locked)
    meetings = [m for m in problem.meetings if m.id in placed_ids or m.id == meeting_id]
    frozen = Problem(
        participants=problem.participants,
        slots=problem.slots,
        tables=problem.tables,
        meetings=meetings,
        unavailable=problem.unavailable,
        locked=problem.locked,
        placed=current,
        allow_move=False,
        started=problem.started,
    )
    index = _Index(frozen)
    slot_of = _greedy_slots(index)
    if meeting_id in slot_of or not problem.allow_move:
        placements = index.assign_tables(_all_slots(index, slot_of))
        return LateFit(placements=placements, placement=placements.get(meeting_id), moved=[])

    movable = replace(frozen, allow_move=True)
    index = _Index(movable)
    model = _Model(index, must_place=frozenset(mid for mid in current if mid not in problem.locked))
    moves = [1 - model.x[(mid, pos)] for mid, pos in index.previous.items() if (mid, pos) in model.x]
    newcomer = sum(model.placed_of[meeting_id])
    model.model.maximize((len(moves) + 1) * newcomer - sum(moves))
    model.hint(index.previous)
    solver, outcome = model.solve(work=work, seconds=time_limit, workers=workers, seed=seed)
    if outcome not in (cp_model.OPTIMAL, cp_model.FEASIBLE) or not solver.value(newcomer):
        placements = index.assign_tables(_all_slots(index, index.previous))
        return LateFit(placements=placements, placement=None, moved=[])
    found = model.read(solver)
    placements = index.assign_tables(_all_slots(index, found))
    moved = sorted((mid for mid, pos in index.previous.items() if found.get(mid) != pos), key=str)
    return LateFit(placements=placements, placement=placements[meeting_id], moved=moved)
