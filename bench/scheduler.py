"""Benchmark: the meeting scheduler against its proven bound and a naive first fit, on two events.

`skewed`: 400 people, 1,500 requested meetings, ample tables; a first fit in request order (what a spreadsheet and
a patient coordinator would do) already comes close to the bound there. `tight`: 300 people, 900 meetings, 30
tables for 12 slots, 20 popular people (available all day) asked in 60 % of the requests, everyone else there for
a window of two slots: a first fit wastes the popular people's slots and places at most 90 % of what is possible.

Every placement is checked (one meeting per person and slot, one per table and slot, only slots both sides can
take, only tables that exist, each meeting once). Prints one JSON line; exits 1 when a check fails, when the
solver places less than 99 % of the proven bound on either event, or when the tight event stops being tight
(first fit above 90 %). The scheduler runs with the parameters the site uses (its defaults). Pure Python: no
database, no settings.
"""

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.matchmaking.scheduler import Meeting, Problem, Slot, greedy_schedule, schedule

SOLVER_TARGET = 0.99  # share of the proven bound the solver must place
TIGHT_FIRST_FIT_CEILING = 0.90  # the tight event must keep a first fit at or below this share


def skewed(seed: int) -> Problem:
    """Zipf-like popularity: the first few people are asked far more often than they have slots."""
    rng = random.Random(seed)
    people = list(range(400))
    weights = [1 / (rank + 1) ** 0.9 for rank in people]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < 1500:
        requester = rng.choice(people)
        target = rng.choices(people, weights=weights)[0]
        if requester != target:
            pairs.add((min(requester, target), max(requester, target)))
    slots = [Slot(id=f"s{s}-{i}", session=s, index=i) for s in range(2) for i in range(8)]
    unavailable = {
        person: frozenset(slot.id for slot in rng.sample(slots, rng.randint(2, 8)))
        for person in rng.sample(people, len(people) // 5)
    }
    return Problem(
        participants=people,
        slots=slots,
        tables=list(range(1, 101)),
        meetings=[Meeting(id=n, a=a, b=b) for n, (a, b) in enumerate(sorted(pairs, key=lambda _: rng.random()))],
        unavailable=unavailable,
    )


def tight(seed: int, *, people_count: int = 300, meetings: int = 900, popular: int = 20, window: int = 2) -> Problem:
    """Few tables, popular people asked often, everyone else present for a short window (clustered availability)."""
    rng = random.Random(seed)
    people = list(range(people_count))
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < meetings:
        requester = rng.randrange(popular, people_count)
        target = rng.randrange(popular) if rng.random() < 0.6 else rng.choice(people)
        if requester != target:
            pairs.add((min(requester, target), max(requester, target)))
    slots = [Slot(id=f"s{s}-{i}", session=s, index=i) for s in range(2) for i in range(6)]
    unavailable = {}
    for person in people[popular:]:
        start = rng.randrange(len(slots) - window + 1)
        unavailable[person] = frozenset(s.id for n, s in enumerate(slots) if not start <= n < start + window)
    return Problem(
        participants=people,
        slots=slots,
        tables=list(range(1, 31)),
        meetings=[Meeting(id=n, a=a, b=b) for n, (a, b) in enumerate(sorted(pairs, key=lambda _: rng.random()))],
        unavailable=unavailable,
    )


def first_fit(problem: Problem) -> dict:
    """First fit in request order: each meeting takes the first slot and table both sides and the room allow."""
    busy: dict[int, set] = {}
    used: dict[str, int] = {}
    placements = {}
    for meeting in problem.meetings:
        for slot in problem.slots:
            if used.get(slot.id, 0) >= len(problem.tables):
                continue
            if any(
                slot.id in busy.get(p, set()) or slot.id in problem.unavailable.get(p, frozenset())
                for p in (meeting.a, meeting.b)
            ):
                continue
            placements[meeting.id] = (slot.id, problem.tables[used.get(slot.id, 0)])
            used[slot.id] = used.get(slot.id, 0) + 1
            busy.setdefault(meeting.a, set()).add(slot.id)
            busy.setdefault(meeting.b, set()).add(slot.id)
            break
    return placements


def violations(problem: Problem, placements: dict) -> list[str]:
    """Every way the placements break the rules; empty when they are valid."""
    meetings = {m.id: m for m in problem.meetings}
    slots = {s.id for s in problem.slots}
    tables = set(problem.tables)
    found = []
    seats: Counter = Counter()
    for mid, placement in placements.items():
        slot, table = placement if isinstance(placement, tuple) else (placement.slot, placement.table)
        if mid not in meetings:
            found.append(f"unknown meeting {mid}")
            continue
        if slot not in slots or table not in tables:
            found.append(f"meeting {mid}: unknown slot {slot} or table {table}")
        seats[(slot, "table", table)] += 1
        for person in (meetings[mid].a, meetings[mid].b):
            if slot in problem.unavailable.get(person, frozenset()):
                found.append(f"meeting {mid}: {person} is not available in {slot}")
            seats[(slot, "person", person)] += 1
    found += [f"{key} booked {count} times" for key, count in seats.items() if count > 1]
    return found


def measure(name: str, problem: Problem, seed: int) -> dict:
    started = time.monotonic()
    result = schedule(problem, seed=seed)
    seconds = time.monotonic() - started
    naive = first_fit(problem)
    fallback = greedy_schedule(problem)
    bound = result.upper_bound
    errors = {
        "solver": violations(problem, result.placements),
        "first_fit": violations(problem, naive),
        "fallback_greedy": violations(problem, fallback),
    }
    return {
        "instance": name,
        "participants": len(problem.participants),
        "accepted": len(problem.meetings),
        "slots": len(problem.slots),
        "tables": len(problem.tables),
        "upper_bound": bound,
        "solver_bound": result.solver_bound,
        "combinatorial_bound": result.combinatorial_bound,
        "placed": result.placed_count,
        "placed_share_of_bound": round(result.placed_count / bound, 4) if bound else 1.0,
        "first_fit_placed": len(naive),
        "first_fit_share_of_bound": round(len(naive) / bound, 4) if bound else 1.0,
        "fallback_greedy_placed": len(fallback),
        "status": result.status,
        "gaps": result.gaps,
        "work": round(result.work, 2),
        "seconds": round(seconds, 2),
        "violations": {k: v[:5] for k, v in errors.items() if v},
    }


def main() -> int:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    runs = [measure("skewed", skewed(seed), seed), measure("tight", tight(seed), seed)]
    failures = []
    for run in runs:
        if run["violations"]:
            failures.append(f"{run['instance']}: invalid placements")
        if run["placed_share_of_bound"] < SOLVER_TARGET:
            failures.append(f"{run['instance']}: solver below {SOLVER_TARGET:.0%} of the bound")
    if runs[1]["first_fit_share_of_bound"] > TIGHT_FIRST_FIT_CEILING:
        failures.append(f"tight: first fit above {TIGHT_FIRST_FIT_CEILING:.0%} of the bound")
    print(json.dumps({"bench": "scheduler", "seed": seed, "instances": runs, "ok": not failures, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
