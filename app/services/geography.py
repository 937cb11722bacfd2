"""Which départements of Occitanie touch which: to offer the nearest unit first.

A unit kept next door is an hour's drive; one at the other end of the region is a day.
Distance here is the number of borders crossed, which is what a member weighs when told
"the same camera is free in the Tarn". Only borders inside the region count: a unit in
the Cantal is not on offer anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

# Each pair is written on both sides; tests/services/test_maintenance_geography.py checks
# that the relation is symmetric and covers the thirteen départements.
NEIGHBOURS: Mapping[str, frozenset[str]] = {
    "09": frozenset({"11", "31", "66"}),
    "11": frozenset({"09", "31", "34", "66", "81"}),
    "12": frozenset({"30", "34", "46", "48", "81", "82"}),
    "30": frozenset({"12", "34", "48"}),
    "31": frozenset({"09", "11", "32", "65", "81", "82"}),
    "32": frozenset({"31", "65", "82"}),
    "34": frozenset({"11", "12", "30", "81"}),
    "46": frozenset({"12", "82"}),
    "48": frozenset({"12", "30"}),
    "65": frozenset({"31", "32"}),
    "66": frozenset({"09", "11"}),
    "81": frozenset({"11", "12", "31", "34", "82"}),
    "82": frozenset({"12", "31", "32", "46", "81"}),
}

# Farther than any two départements of the region: a code the table does not know.
UNKNOWN = len(NEIGHBOURS) + 1


def distances_from(home: str) -> dict[str, int]:
    """Borders crossed from `home` to every département of the region (breadth first)."""
    if home not in NEIGHBOURS:
        return {home: 0}
    seen = {home: 0}
    queue = deque([home])
    while queue:
        here = queue.popleft()
        for there in sorted(NEIGHBOURS[here]):
            if there not in seen:
                seen[there] = seen[here] + 1
                queue.append(there)
    return seen


def distance(home: str, other: str) -> int:
    return distances_from(home).get(other, UNKNOWN)


def nearest_first(home: str, codes: Iterable[str]) -> list[str]:
    """The codes, once each: `home`, then its neighbours, then the rest by borders crossed, then by code."""
    away = distances_from(home)
    return sorted(set(codes), key=lambda code: (away.get(code, UNKNOWN), code))
