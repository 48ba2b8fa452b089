"""Every endpoint's response check accepts the right answer and rejects a wrong status and
a wrong body (the same checks run under load and in the harness's pre-load check)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from loadtests.scenarios import (
    COMPUTE_N,
    SCENARIOS,
    SLOW_MS,
    STATIC_ASSET_LINES,
    STATIC_ASSET_MARKER,
    STATIC_PATH,
    Call,
    Endpoint,
    UserContext,
    count_primes_below,
)

RightBody = Callable[[Call, UserContext], Any]

# For each endpoint: the body a correct server returns to `call`, and a wrong one.
ANSWERS: dict[str, tuple[RightBody, RightBody]] = {
    "GET /api/me/": (
        lambda call, ctx: {"id": 7, "username": ctx.username},
        lambda call, ctx: {"id": 7, "username": "somebody-else"},
    ),
    "GET /api/items/": (
        lambda call, ctx: {"count": 1, "next": None, "results": [{"id": 3, "title": "t"}]},
        lambda call, ctx: [{"id": 3}],
    ),
    "GET /api/items/<id>/": (
        lambda call, ctx: {"id": int(call.path.strip("/").rsplit("/", 1)[1]), "title": "t"},
        lambda call, ctx: {"id": -1, "title": "t"},
    ),
    "POST /api/items/": (
        lambda call, ctx: {"id": 99, "title": call.payload["title"] if call.payload else ""},
        lambda call, ctx: {"id": 99, "title": "not what was sent"},
    ),
    "PATCH /api/items/<id>/": (
        lambda call, ctx: {"id": 1, "done": call.payload["done"] if call.payload else None},
        lambda call, ctx: {"id": 1, "done": not (call.payload or {}).get("done")},
    ),
    f"GET /api/slow/?ms={SLOW_MS}": (
        lambda call, ctx: {"slept_ms": SLOW_MS},
        lambda call, ctx: {"slept_ms": 0},
    ),
    f"GET /api/slow-async/?ms={SLOW_MS}": (
        lambda call, ctx: {"slept_ms": SLOW_MS},
        lambda call, ctx: {"slept_ms": 0},
    ),
    f"GET /api/compute/?n={COMPUTE_N}": (
        lambda call, ctx: {"n": COMPUTE_N, "primes": count_primes_below(COMPUTE_N)},
        lambda call, ctx: {"n": COMPUTE_N, "primes": count_primes_below(COMPUTE_N) + 1},
    ),
    f"GET {STATIC_PATH}": (
        lambda call, ctx: {"asset": STATIC_ASSET_MARKER, "lines": ["x"] * STATIC_ASSET_LINES},
        lambda call, ctx: {"asset": STATIC_ASSET_MARKER, "lines": ["x"]},
    ),
    "POST /api/auth/token/": (
        lambda call, ctx: {"access": "a.b.c", "refresh": "d.e.f"},
        lambda call, ctx: {"access": "a.b.c"},
    ),
}

ENDPOINTS = {e.name: e for scenario in SCENARIOS.values() for e in scenario.endpoints}


def _context() -> UserContext:
    context = UserContext(username="bench0001", password="pw", rng=random.Random(3))
    for item_id in (11, 12, 13):
        context.remember_item(item_id)
    return context


def test_every_endpoint_of_every_scenario_is_covered_here() -> None:
    assert set(ENDPOINTS) == set(ANSWERS)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_check_accepts_the_right_answer_only(name: str) -> None:
    endpoint: Endpoint = ENDPOINTS[name]
    right, wrong = ANSWERS[name]
    context = _context()
    call = endpoint.build(context)
    assert endpoint.verdict(endpoint.expected_status, right(call, context), call, context) is None
    wrong_status = 500 if endpoint.expected_status != 500 else 200
    problem = endpoint.verdict(wrong_status, right(call, context), call, context)
    assert problem == f"{name}: status {wrong_status}, expected {endpoint.expected_status}"
    problem = endpoint.verdict(endpoint.expected_status, wrong(call, context), call, context)
    assert problem is not None and problem.startswith(f"{name}: ")
    for unusable in (None, "<html>oops</html>"):
        assert endpoint.verdict(endpoint.expected_status, unusable, call, context) is not None


def test_a_created_item_is_remembered_for_later_reads() -> None:
    endpoint = ENDPOINTS["POST /api/items/"]
    context = UserContext(username="bench0001", password="pw")
    call = endpoint.build(context)
    assert endpoint.verdict(201, {"id": 42, "title": call.payload["title"]}, call, context) is None
    assert context.item_ids == [42]


def test_a_user_without_items_cannot_build_an_item_request() -> None:
    with pytest.raises(LookupError):
        ENDPOINTS["GET /api/items/<id>/"].build(UserContext(username="u", password="p"))


def test_only_a_scenario_naming_an_item_learns_its_items_first() -> None:
    """An endpoint that names an item fails without one (above): the scenarios holding such
    an endpoint are exactly the ones whose users list their items before the load."""
    context = UserContext(username="u", password="p")

    def fails_without_items(endpoint: Endpoint) -> bool:
        try:
            endpoint.build(context)
        except LookupError:
            return True
        return False

    for scenario in SCENARIOS.values():
        assert scenario.needs_items == any(map(fails_without_items, scenario.endpoints))
    assert SCENARIOS["mixed"].needs_items and not SCENARIOS["io"].needs_items


def test_the_reference_prime_count() -> None:
    assert [count_primes_below(n) for n in (0, 2, 3, 10, 100)] == [0, 0, 1, 4, 25]
    assert count_primes_below(20_000) == 2262  # pi(20,000), a published value
