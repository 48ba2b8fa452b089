"""Check the responses before loading: a token can be had, authentication is enforced, and
every endpoint of the scenario answers with the expected status and body.

Uses the scenario's own endpoint definitions (loadtests/scenarios.py), so "correct" means
the same thing here as under load. A run whose check fails is recorded as failed and nothing
is measured: a server that answers every request with an error is not fast, it is broken.
"""

from __future__ import annotations

import ssl
from functools import partial

from loadtests.scenarios import ITEMS_PATH, TOKEN_PATH, Scenario, UserContext
from servers.http import request_json


def check_responses(
    base_url: str,
    scenario: Scenario,
    username: str,
    password: str,
    *,
    access: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> list[str]:
    """Problems found (empty when every check passed). With `access` (a token the caller
    obtained for `username` over HTTP already, as a remote target's logins do) the check
    uses it instead of logging in once more; `tls` verifies an https target."""
    try:
        return _check(base_url, scenario, username, password, access, tls)
    except OSError as error:
        return [f"connection failed during the response check: {error}"]


def _check(
    base_url: str,
    scenario: Scenario,
    username: str,
    password: str,
    access: str | None,
    tls: ssl.SSLContext | None,
) -> list[str]:
    request = partial(request_json, tls=tls)
    if access is None:
        token = request(
            "POST", base_url + TOKEN_PATH, payload={"username": username, "password": password}
        )
        body = token.body
        if token.status != 200 or not isinstance(body, dict) or "access" not in body:
            return [f"POST {TOKEN_PATH}: status {token.status}, no access token for {username}"]
        access = str(body["access"])
    problems: list[str] = []
    anonymous = request("GET", base_url + "/api/me/")
    if anonymous.status != 401:
        problems.append(f"GET /api/me/ without a token: status {anonymous.status}, expected 401")
    context = UserContext(username=username, password=password)
    listing = request("GET", base_url + ITEMS_PATH, token=access)
    if listing.status == 200 and isinstance(listing.body, dict):
        for item in listing.body.get("results") or []:
            context.remember_item(int(item["id"]))
    for endpoint in scenario.endpoints:
        try:
            call = endpoint.build(context)
        except LookupError as missing:
            problems.append(f"{endpoint.name}: {missing}")
            continue
        answer = request(
            call.method,
            base_url + call.path,
            payload=call.payload,
            token=access if endpoint.authenticated else None,
        )
        problem = endpoint.verdict(answer.status, answer.body, call, context)
        if problem:
            problems.append(problem)
    return problems
