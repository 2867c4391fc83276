"""The draw as pure functions, so a draw can be replayed from its record and the
property tests can run many cycles without a database.

Algorithm ``sha256-shuffle-v1`` (never change it; a new algorithm gets a new name and
old draws keep replaying with theirs): for each category, the candidates' ids are sorted
ascending; a PRNG is seeded with the integer of SHA-256("<seed>:<category id>") and
``random.Random.sample`` takes the quota from the sorted list, in the order drawn.
"""

import hashlib
import math
import random
import secrets
from dataclasses import dataclass

ALGORITHM = "sha256-shuffle-v1"


def new_seed() -> str:
    """32 random bytes from the operating system's cryptographic source, as hex."""
    return secrets.token_hex(32)


def pick(*, candidates: list[int], quota: int, seed: str, category_id: int, algorithm: str = ALGORITHM) -> list[int]:
    """The ``quota`` units drawn from ``candidates``, in the order drawn."""
    if algorithm != ALGORITHM:
        raise ValueError(f"unknown draw algorithm {algorithm!r}")
    pool = sorted(candidates)
    digest = hashlib.sha256(f"{seed}:{category_id}".encode()).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    return rng.sample(pool, min(quota, len(pool)))


def replay(*, candidates: dict, quotas: dict, seed: str, algorithm: str) -> dict[int, list[int]]:
    """A draw's result recomputed from its record (JSON keys are strings)."""
    return {
        int(category_id): pick(
            candidates=list(ids),
            quota=int(quotas[category_id]),
            seed=seed,
            category_id=int(category_id),
            algorithm=algorithm,
        )
        for category_id, ids in candidates.items()
    }


def month_quota(*, quota: int, remaining: int, position: int, cycle_months: int) -> int:
    """How many to draw this month: the quota (or what is left), and in the cycle's last
    month everything still left, so the cycle covers every unit."""
    if position >= cycle_months - 1:
        return remaining
    return min(quota, remaining)


@dataclass(frozen=True)
class Shortfall:
    category: str
    units: int
    quota: int
    months: int

    @property
    def needed(self) -> int:
        return math.ceil(self.units / self.months)


def shortfalls(*, categories: list[tuple[str, int, int]], cycle_months: int) -> list[Shortfall]:
    """Categories (name, units, quota) whose quota over the cycle does not reach every
    unit: the quota × months must be at least the units (the last month takes what
    remains, which then stays within the quota)."""
    return [
        Shortfall(name, units, quota, cycle_months) for name, units, quota in categories if quota * cycle_months < units
    ]


def fits_this_cycle(*, remaining: int, quota: int, months_left: int) -> bool:
    """Whether one more unit still fits the months left of a cycle at the quota."""
    return remaining + 1 <= quota * months_left
