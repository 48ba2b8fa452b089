"""Plain Locust: GET /api/me/ as fast as each user can, and nothing of the harness.

The third side of `make calibrate REFERENCE=wrk,locust`. It separates what Locust itself
costs from what the harness adds on top of it (the window controller, the scenario
checks, latency recording, token renewal): this file imports nothing of loadtests/ or
scripts/, checks nothing beyond Locust's defaults (a status >= 400 or a connection error is
a failure), and waits for nothing (constant(0)). Its users take the JWTs the app issued
(`manage.py issue_tokens`, the file `--tokens-file` names, the format the harness's
locustfile reads), one account per user in turn, so no user logs in over HTTP.

Locust's own `-t` bounds the run. `--warmup-s` seconds after every user was spawned, the
statistics are reset once (Locust's `--reset-stats` would reset at the end of spawning
instead), so the CSVs hold the measured window only; the moments of the reset and of the
stop (when `-t` ran out) are logged (WINDOW_MARKER, STOP_MARKER), so the caller can count
the rate over exactly that window and line its samplers up with it.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

ENDPOINT = "/api/me/"
WINDOW_MARKER = "plain locust: statistics reset at"
STOP_MARKER = "plain locust: stopped at"


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    parser.add_argument(
        "--tokens-file",
        default="",
        help="JSON file of the JWT pairs the app issued (manage.py issue_tokens)",
    )
    parser.add_argument(
        "--warmup-s",
        type=float,
        default=0.0,
        help="seconds after the last user was spawned before the statistics are reset",
    )


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.tokens_file:
        return
    document = json.loads(Path(options.tokens_file).read_text())
    tokens = [str(user["access"]) for user in document["users"]]
    if not tokens:
        raise ValueError(f"{options.tokens_file} holds no tokens")
    environment.plain_tokens = itertools.cycle(tokens)  # type: ignore[attr-defined]

    def reset_after_warmup(**_: Any) -> None:
        def reset() -> None:
            environment.stats.reset_all()
            logging.info("%s %.6f", WINDOW_MARKER, time.time())

        gevent.spawn_later(max(0.0, float(options.warmup_s)), reset)

    environment.events.spawning_complete.add_listener(reset_after_warmup)
    environment.events.test_stop.add_listener(
        lambda **_: logging.info("%s %.6f", STOP_MARKER, time.time())
    )


class MeUser(FastHttpUser):
    """One account's client: GET /api/me/ with its bearer token, no think time."""

    wait_time = constant(0)

    def on_start(self) -> None:
        token = next(self.environment.plain_tokens)
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def me(self) -> None:
        self.client.get(ENDPOINT, headers=self.headers)
