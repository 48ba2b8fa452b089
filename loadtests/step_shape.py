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

from locust import LoadTestShape


class ControlledSteps(LoadTestShape):
    """The controller's current step: (users, spawn rate) until the runner quits."""

    use_common_options = True  # -u and -r are read below, so Locust need not warn

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.users: int | None = None

    def set_users(self, users: int) -> None:
        """The next step's user count (the controller's StepHooks.start_users)."""
        self.users = users

    def tick(self) -> tuple[int, float] | None:
        runner = self.runner
        options = runner.environment.parsed_options if runner is not None else None
        if options is None:
            return None
        users = self.users if self.users is not None else int(options.num_users or 1)
        return users, float(options.spawn_rate or users)
