"""Scenarios as data: weighted endpoints, each with the request it sends and the check its
answer must pass.

The same definitions drive the Locust users (under load) and the harness's pre-load response
check (before any load), so a broken endpoint is caught by the same rule in both places.
A check returns None when the answer is right, or a short reason when it is not: a 200 with
the wrong body is a failure, not a success.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

TOKEN_PATH: Final = "/api/auth/token/"
REFRESH_PATH: Final = "/api/auth/token/refresh/"
ITEMS_PATH: Final = "/api/items/"
SLOW_MS: Final = 50
COMPUTE_N: Final = 20000
MAX_REMEMBERED_ITEMS: Final = 200
# The sample app's static asset (sampleapp/api/static/bench/asset.json): WhiteNoise serves it
# under every server, nginx under PROXY=nginx; the check knows its marker and its length.
STATIC_PATH: Final = "/static/bench/asset.json"
STATIC_ASSET_MARKER: Final = "drf-server-bench static asset"
STATIC_ASSET_LINES: Final = 32


def count_primes_below(n: int) -> int:
    """Reference prime count (a sieve, independent of the app's own implementation)."""
    if n < 3:
        return 0
    sieve = bytearray([1]) * n
    sieve[0] = sieve[1] = 0
    for candidate in range(2, int(n**0.5) + 1):
        if sieve[candidate]:
            sieve[candidate * candidate :: candidate] = bytearray(
                len(range(candidate * candidate, n, candidate))
            )
    return sum(sieve)


@dataclass
class UserContext:
    """What one simulated user knows: who it is and which items it owns."""

    username: str
    password: str
    item_ids: list[int] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    def remember_item(self, item_id: int) -> None:
        if len(self.item_ids) < MAX_REMEMBERED_ITEMS:
            self.item_ids.append(item_id)

    def some_item(self) -> int:
        if not self.item_ids:
            raise LookupError(f"{self.username} owns no items to read")
        return self.rng.choice(self.item_ids)


@dataclass(frozen=True)
class Call:
    """One concrete request."""

    method: str
    path: str
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Endpoint:
    """A request kind: `name` is its label in the statistics."""

    name: str
    build: Callable[[UserContext], Call]
    expected_status: int
    check: Callable[[Any, Call, UserContext], str | None]
    authenticated: bool = True
    needs_items: bool = False  # it names one of the user's items, learnt before the load

    def verdict(self, status: int, body: Any, call: Call, context: UserContext) -> str | None:
        """None when the answer is right; otherwise why it is wrong."""
        if status != self.expected_status:
            return f"{self.name}: status {status}, expected {self.expected_status}"
        problem = self.check(body, call, context)
        return f"{self.name}: {problem}" if problem else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_me(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or not _is_int(body.get("id")):
        return "body has no integer id"
    if body.get("username") != context.username:
        return f"username {body.get('username')!r}, expected {context.username!r}"
    return None


def _check_item_list(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or not _is_int(body.get("count")):
        return "body is not a paginated list (no integer count)"
    results = body.get("results")
    if not isinstance(results, list):
        return "body has no results list"
    if any(not isinstance(item, dict) or not _is_int(item.get("id")) for item in results):
        return "an entry of results has no integer id"
    return None


def _item_id_from_path(call: Call) -> int:
    return int(call.path.rstrip("/").rsplit("/", 1)[1])


def _check_item(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or body.get("id") != _item_id_from_path(call):
        return "body is not the requested item"
    if not isinstance(body.get("title"), str):
        return "item has no title"
    return None


def _check_created(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or not _is_int(body.get("id")):
        return "created item has no integer id"
    assert call.payload is not None
    if body.get("title") != call.payload["title"]:
        return "created item's title differs from the one sent"
    context.remember_item(int(body["id"]))
    return None


def _check_patched(body: Any, call: Call, context: UserContext) -> str | None:
    assert call.payload is not None
    if not isinstance(body, dict) or body.get("done") != call.payload["done"]:
        return "patched item does not show the new value"
    return None


def _check_slow(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or body.get("slept_ms") != SLOW_MS:
        return f"slept_ms is not {SLOW_MS}"
    return None


def _check_compute(body: Any, call: Call, context: UserContext) -> str | None:
    expected = count_primes_below(COMPUTE_N)
    if not isinstance(body, dict) or body.get("primes") != expected:
        return f"primes below {COMPUTE_N} should be {expected}"
    return None


def _check_static(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict) or body.get("asset") != STATIC_ASSET_MARKER:
        return "body is not the sample app's static asset"
    lines = body.get("lines")
    if not isinstance(lines, list) or len(lines) != STATIC_ASSET_LINES:
        return f"the asset should hold {STATIC_ASSET_LINES} lines"
    return None


def _check_token(body: Any, call: Call, context: UserContext) -> str | None:
    if not isinstance(body, dict):
        return "body is not an object"
    if not isinstance(body.get("access"), str) or not isinstance(body.get("refresh"), str):
        return "body lacks access and refresh tokens"
    return None


ME = Endpoint("GET /api/me/", lambda c: Call("GET", "/api/me/"), 200, _check_me)
LIST_ITEMS = Endpoint("GET /api/items/", lambda c: Call("GET", ITEMS_PATH), 200, _check_item_list)
GET_ITEM = Endpoint(
    "GET /api/items/<id>/",
    lambda c: Call("GET", f"{ITEMS_PATH}{c.some_item()}/"),
    200,
    _check_item,
    needs_items=True,
)
CREATE_ITEM = Endpoint(
    "POST /api/items/",
    lambda c: Call(
        "POST",
        ITEMS_PATH,
        {"title": f"load item {c.rng.randrange(10**9)}", "body": "written under load"},
    ),
    201,
    _check_created,
)
PATCH_ITEM = Endpoint(
    "PATCH /api/items/<id>/",
    lambda c: Call("PATCH", f"{ITEMS_PATH}{c.some_item()}/", {"done": c.rng.random() < 0.5}),
    200,
    _check_patched,
    needs_items=True,
)
SLOW = Endpoint(
    f"GET /api/slow/?ms={SLOW_MS}",
    lambda c: Call("GET", f"/api/slow/?ms={SLOW_MS}"),
    200,
    _check_slow,
)
SLOW_ASYNC = Endpoint(
    f"GET /api/slow-async/?ms={SLOW_MS}",
    lambda c: Call("GET", f"/api/slow-async/?ms={SLOW_MS}"),
    200,
    _check_slow,
)
COMPUTE = Endpoint(
    f"GET /api/compute/?n={COMPUTE_N}",
    lambda c: Call("GET", f"/api/compute/?n={COMPUTE_N}"),
    200,
    _check_compute,
)
# A browser fetches static files without the API's bearer token.
STATIC = Endpoint(
    f"GET {STATIC_PATH}",
    lambda c: Call("GET", STATIC_PATH),
    200,
    _check_static,
    authenticated=False,
)
LOGIN = Endpoint(
    f"POST {TOKEN_PATH}",
    lambda c: Call("POST", TOKEN_PATH, {"username": c.username, "password": c.password}),
    200,
    _check_token,
    authenticated=False,
)


@dataclass(frozen=True)
class Scenario:
    """A named, weighted mix of endpoints."""

    name: str
    description: str
    weighted: tuple[tuple[Endpoint, int], ...]

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(endpoint for endpoint, _ in self.weighted)

    @property
    def needs_items(self) -> bool:
        """Whether a user must learn its item ids (one GET /api/items/) before the load:
        only a scenario that names an item does. Skipping it elsewhere matters under
        overload: 200 users' setup lists on a server that serves none of them in time
        delayed the window of the lesson's overload run by 27 s."""
        return any(endpoint.needs_items for endpoint in self.endpoints)

    def pick(self, rng: random.Random) -> Endpoint:
        weights = [weight for _, weight in self.weighted]
        return rng.choices(self.endpoints, weights=weights, k=1)[0]


def _scenario_table(*scenarios: Scenario) -> Mapping[str, Scenario]:
    return MappingProxyType({scenario.name: scenario for scenario in scenarios})


SCENARIOS: Final[Mapping[str, Scenario]] = _scenario_table(
    Scenario(
        "mixed",
        "a typical API mix: me, list items, get an item, create an item",
        ((ME, 3), (LIST_ITEMS, 3), (GET_ITEM, 3), (CREATE_ITEM, 1)),
    ),
    Scenario(
        "read", "reads only: me, list items, get an item", ((ME, 1), (LIST_ITEMS, 1), (GET_ITEM, 2))
    ),
    Scenario(
        "write",
        "writes only: create and update items (one SQLite writer at a time)",
        ((CREATE_ITEM, 1), (PATCH_ITEM, 1)),
    ),
    Scenario("io", f"an upstream call stand-in: /api/slow/ waits {SLOW_MS} ms", ((SLOW, 1),)),
    Scenario(
        "io-async",
        f"the same wait in a plain Django async view: /api/slow-async/ awaits {SLOW_MS} ms",
        ((SLOW_ASYNC, 1),),
    ),
    Scenario("cpu", f"CPU-bound pure Python: count primes below {COMPUTE_N}", ((COMPUTE, 1),)),
    Scenario(
        "me",
        "one endpoint, GET /api/me/: the JWT check and one user query (the wrk cross-check)",
        ((ME, 1),),
    ),
    Scenario(
        "static",
        "a page's worth: the static asset mixed with me and the item list",
        ((STATIC, 2), (ME, 1), (LIST_ITEMS, 1)),
    ),
    Scenario(
        "login", "token obtain in the loop: what PBKDF2 password hashing costs", ((LOGIN, 1),)
    ),
)
