"""A step load as Locust's own LoadTestShape, for the master of a distributed run.

With workers, the user count belongs to the master's shape: Locust runs a LoadTestShape on
the master only and dispatches its user count over the workers. The window controller
(loadtests/window.py) still decides when each step starts (after the previous step's
window), so this shape holds the count the controller last asked for and returns it on
every tick; Locust's shape greenlet applies a new count within a second.

Loaded only when the harness asks for it, as a second locustfile
(`-f loadtests/locustfile.py,loadtests/step_shape.py`): Locust uses any shape class a
locustfile defines, and a single-process run steps its own runner directly.
"""

from __future__ import annotations

import time
from typing import ClassVar

import gevent
from locust import LoadTestShape


class ControlledSteps(LoadTestShape):
    """The controller's current step: (users, spawn rate) until the runner quits."""

    use_common_options = True  # -u and -r are read below, so Locust need not warn
    STOP_TIMEOUT_S: ClassVar[float] = 5.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.users: int | None = None

    def set_users(self, users: int) -> None:
        """The next step's user count (the controller's StepHooks.start_users)."""
        self.users = users

    def stop_users(self) -> None:
        """End the load through the shape itself: zero users. Runner.stop() would end the
        shape's greenlet, and headless Locust quits the moment that greenlet ends, before
        the window controller has gathered the workers' histograms and let the CSV writer
        finish; at zero users the shape keeps ticking until the controller quits the
        runner. Waits (bounded) until the workers report no user left."""
        self.users = 0
        runner = self.runner
        deadline = time.monotonic() + self.STOP_TIMEOUT_S
        gevent.sleep(1.0)  # the shape's next tick
        while runner is not None and runner.user_count > 0 and time.monotonic() < deadline:
            gevent.sleep(0.2)

    def tick(self) -> tuple[int, float] | None:
        runner = self.runner
        options = runner.environment.parsed_options if runner is not None else None
        if options is None:
            return None
        users = self.users if self.users is not None else int(options.num_users or 1)
        return users, float(options.spawn_rate or max(users, 1))
