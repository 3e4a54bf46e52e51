"""Benchmark: the meeting scheduler on a skewed 400-person, 1,500-meeting event against its proven bound."""

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.matchmaking.scheduler import Meeting, Problem, Slot, greedy_schedule, schedule

PARTICIPANTS = 400
ACCEPTED = 1500
SESSIONS = 2
SLOTS_PER_SESSION = 8
TABLES = 100
TIME_LIMIT = 10.0


def build(seed: int) -> Problem:
    rng = random.Random(seed)
    people = list(range(PARTICIPANTS))
    # Zipf-like popularity: the first few people are asked far more often than they have slots.
    weights = [1 / (rank + 1) ** 0.9 for rank in people]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < ACCEPTED:
        requester = rng.choice(people)
        target = rng.choices(people, weights=weights)[0]
        if requester != target:
            pairs.add((min(requester, target), max(requester, target)))
    slots = [Slot(id=f"s{s}-{i}", session=s, index=i) for s in range(SESSIONS) for i in range(SLOTS_PER_SESSION)]
    unavailable = {
        person: frozenset(slot.id for slot in rng.sample(slots, rng.randint(2, 8)))
        for person in rng.sample(people, PARTICIPANTS // 5)
    }
    return Problem(
        participants=people,
        slots=slots,
        tables=list(range(1, TABLES + 1)),
        meetings=[Meeting(id=n, a=a, b=b) for n, (a, b) in enumerate(sorted(pairs, key=lambda _: rng.random()))],
        unavailable=unavailable,
    )


def naive_greedy(problem: Problem) -> int:
    """First fit in request order: what a spreadsheet and a patient coordinator would do."""
    busy: dict[int, set] = {}
    used: dict[str, int] = {}
    placed = 0
    for meeting in problem.meetings:
        for slot in problem.slots:
            if used.get(slot.id, 0) >= len(problem.tables):
                continue
            if any(
                slot.id in busy.get(p, set()) or slot.id in problem.unavailable.get(p, frozenset())
                for p in (meeting.a, meeting.b)
            ):
                continue
            used[slot.id] = used.get(slot.id, 0) + 1
            busy.setdefault(meeting.a, set()).add(slot.id)
            busy.setdefault(meeting.b, set()).add(slot.id)
            placed += 1
            break
    return placed


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    problem = build(seed)
    started = time.monotonic()
    result = schedule(problem, time_limit=TIME_LIMIT, workers=2, seed=seed)
    seconds = time.monotonic() - started
    fallback = greedy_schedule(problem)
    print(
        json.dumps(
            {
                "bench": "scheduler",
                "accepted": len(problem.meetings),
                "placed": result.placed_count,
                "upper_bound": result.upper_bound,
                "solver_bound": result.solver_bound,
                "combinatorial_bound": result.combinatorial_bound,
                "placed_share_of_bound": round(result.placed_count / result.upper_bound, 4),
                "status": result.status,
                "gaps": result.gaps,
                "greedy_placed": naive_greedy(problem),
                "fallback_greedy_placed": len(fallback),
                "seconds": round(seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
