"""Authenticated load on the sample app, one scenario at a time.

Each simulated user logs in as its own seeded account before the measured window, then runs
its scenario's weighted endpoints with `Authorization: Bearer`, renews its access token
before it expires (or after a 401), and checks every answer's status and body.

By hand:
    locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 --scenario read
The harness (scripts/bench.py) adds --window-s/--warmup-s/--window-file so that only a
steady window after every login is measured; every response completed in that window is
also recorded in microseconds (loadtests/latency.py -> latency.json, window_progress.json).
"""

from __future__ import annotations

import csv
import os
import signal
import ssl
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import gevent
import gevent.ssl
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import arrival, latency, progress
from loadtests import arrival_processes as open_model
from loadtests.final_stats import WorkerFlush, answer_flushes, write_final_files
from loadtests.latency_processes import LocalLatency, MasterLatency, WorkerLatency
from loadtests.partition import account_number
from loadtests.scenarios import (
    REFRESH_PATH,
    SCENARIOS,
    TOKEN_PATH,
    Call,
    Endpoint,
    Scenario,
    UserContext,
)
from loadtests.server_counts import FILE_NAME as SERVER_COUNTS_FILE
from loadtests.server_counts import ServerCountsObserver
from loadtests.shape import LoadShape
from loadtests.tokens import TokenFormatError, TokenPair
from loadtests.window import (
    LoopLagMonitor,
    ObserverChain,
    StepHooks,
    WindowController,
    WindowObserver,
    merge_lag,
)
from loadtests.workers import (
    MasterRoster,
    RosterHooks,
    WorkerSide,
    checkout_commit,
    read_pairs,
)

SETUP_LOGIN_NAME = f"POST {TOKEN_PATH} (setup)"
REFRESH_NAME = f"POST {REFRESH_PATH}"


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="mixed",
        env_var="LOCUST_SCENARIO",
        help="which scenario to run",
    )
    parser.add_argument(
        "--user-prefix",
        default="bench",
        env_var="LOCUST_USER_PREFIX",
        help="seeded usernames are <prefix>0001, <prefix>0002, ...",
    )
    parser.add_argument(
        "--user-password",
        default="bench-pass-123",
        env_var="LOCUST_USER_PASSWORD",
        help="password of the seeded users",
    )
    parser.add_argument(
        "--tokens-file",
        default="",
        env_var="LOCUST_TOKENS_FILE",
        help="JSON file of JWT pairs the app issued (manage.py issue_tokens): users take their "
        "account's pair instead of logging in over HTTP",
    )
    parser.add_argument(
        "--server-counts-dir",
        default="",
        help="the sample app's REQUEST_COUNTS_DIR: read at each window's edges into "
        "server_counts.json (the server's own count of what it answered)",
    )
    parser.add_argument(
        "--seeded-users",
        type=int,
        default=16,
        env_var="LOCUST_SEEDED_USERS",
        help="how many seeded accounts exist (simulated users cycle over them)",
    )
    parser.add_argument(
        "--warmup-s",
        type=float,
        default=0.0,
        help="seconds of load after every login before measuring",
    )
    parser.add_argument(
        "--window-s",
        type=float,
        default=0.0,
        help="measured window length; 0 leaves timing to Locust's -t",
    )
    parser.add_argument("--window-file", default="", help="where to write window.json")
    parser.add_argument(
        "--ready-timeout-s", type=float, default=120.0, help="longest wait for all users to log in"
    )
    parser.add_argument(
        "--steps",
        default="",
        help="step load: comma-separated user counts (the first equals -u); each step gets "
        "its own measured window of --window-s",
    )
    parser.add_argument(
        "--arrival-rates",
        default="",
        help="open model: requests per second on a fixed schedule, one rate per window "
        "(steps), sent by the -u users as a bounded pool (loadtests/arrival.py); "
        "empty: closed loop",
    )
    parser.add_argument(
        "--setup-failures-expected",
        action="store_true",
        default=False,
        help="the run provokes errors on purpose: a user whose setup failed is counted, "
        "not a reason to stop",
    )
    parser.add_argument(
        "--target-ca",
        default="",
        env_var="LOCUST_TARGET_CA",
        help="PEM file of the CA certificates an https host is verified against (default: "
        "the system's); verification is never off",
    )
    parser.add_argument(
        "--burn-ms",
        type=float,
        default=0.0,
        help="test only: burn this much Locust CPU per task (starves the generator on purpose)",
    )


def _controller(environment: Environment) -> WindowController | None:
    controller = getattr(environment, "bench_window", None)
    return controller if isinstance(controller, WindowController) else None


@events.init.add_listener
def on_init(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    runner = environment.runner
    assert runner is not None
    if isinstance(runner, WorkerRunner):
        # always: a worker started by hand (`make loadworker`) has none of the harness's
        # options until the master's first spawn message brings them
        _setup_worker(environment, runner)
        return
    if options is None or options.window_s <= 0:
        return
    rates = arrival.ArrivalRates.from_arg(options.arrival_rates) if options.arrival_rates else None
    steps = LoadShape.from_arg(options.steps).steps if options.steps.strip() else ()
    controller = WindowController(
        users_target=int(options.num_users or 1),
        warmup_s=options.warmup_s,
        window_s=options.window_s,
        ready_timeout_s=options.ready_timeout_s,
        output=Path(options.window_file) if options.window_file else None,
        steps=steps,
        setup_failures_expected=bool(options.setup_failures_expected),
    )
    environment.bench_window = controller  # type: ignore[attr-defined]
    environment.events.spawning_complete.add_listener(
        lambda user_count, **_: controller.spawning_complete()
    )
    environment.events.test_start.add_listener(lambda **_: controller.load_started())
    spawn_rate = float(options.spawn_rate or 1)
    if isinstance(runner, MasterRunner):
        runner.register_message(
            "bench_user_ready",
            lambda msg, **_: controller.user_ready(bool(msg.data["logged_in"])),
        )
        runner.register_message("bench_lag", lambda msg, **_: _merge_lag(controller, msg))
        reset = _DistributedReset(runner)
        runner.register_message("bench_reset_done", lambda msg, **_: reset.acknowledge())
        ending = _EarlyEnd(controller)
        roster = MasterRoster(
            runner,
            controller.record,
            RosterHooks(on_refused=ending, on_lost=ending, write=controller.write),
            commit=checkout_commit(),
            expected=int(options.expect_workers),
            pairs=read_pairs(Path(options.tokens_file)) if options.tokens_file else None,
            prefix=options.user_prefix,
            accounts=int(options.seeded_users),
        )
        # a step load's counts go through Locust's LoadTestShape on the master
        # (loadtests/step_shape.py, loaded as a second locustfile)
        set_users = getattr(environment.shape_class, "set_users", None)
        flush = WorkerFlush(runner, roster.live_workers)

        def final_write() -> None:
            flush.run()
            write_final_files(environment, options.csv_prefix)

        def step_snapshot(index: int, users: int) -> str:
            flush.run()
            return _write_step_stats(environment, options, index, users)

        hooks = StepHooks(
            reset_stats=reset.run,
            stop_users=getattr(environment.shape_class, "stop_users", None) or runner.stop,
            quit_runner=runner.quit,
            final_write=final_write,
            start_users=set_users,
            snapshot=step_snapshot if steps else None,
            observer=_observers(
                options,
                ObserverChain((MasterLatency(runner, *_latency_files(options)), roster)),
                open_model.MasterArrival(runner, _arrival_file(options)) if rates else None,
            ),
        )
        ending.hooks = hooks
        if steps and set_users is None:  # by hand without the shape: say why and stop
            controller.record.reason = (
                "a step load with workers needs the shape: -f loadtests/locustfile.py,"
                "loadtests/step_shape.py"
            )
            controller.write()
            gevent.spawn(runner.quit)
            return
    else:
        controller.lag_monitor = LoopLagMonitor()
        local_arrival = None
        if rates is not None:  # the open model: its steps change the rate, not the users
            open_model.install(environment, rates, 1.0, "local")
            local_arrival = open_model.LocalArrival(
                _open_model(environment), int(options.num_users or 1), _arrival_file(options)
            )
        hooks = StepHooks(
            reset_stats=runner.stats.reset_all,
            stop_users=runner.stop,
            quit_runner=runner.quit,
            final_write=lambda: write_final_files(environment, options.csv_prefix),
            start_users=(
                _open_model(environment).next_step
                if local_arrival is not None
                else lambda users: runner.start(users, spawn_rate)
            ),
            snapshot=lambda index, users: _write_step_stats(environment, options, index, users),
            observer=_observers(
                options, LocalLatency(environment, *_latency_files(options)), local_arrival
            ),
        )
    greenlet = gevent.spawn(controller.run, hooks)
    if isinstance(runner, MasterRunner):
        ending.greenlet = greenlet


def _setup_worker(environment: Environment, runner: WorkerRunner) -> None:
    """A worker's listeners: latency recording, its identity and figures, the resets."""
    lag = LoopLagMonitor()
    WorkerLatency(environment, runner)
    environment.bench_worker = WorkerSide(environment, runner)  # type: ignore[attr-defined]
    answer_flushes(runner)
    runner.register_message("bench_reset", lambda msg, **_: _worker_reset(runner, lag))
    environment.events.test_stop.add_listener(
        lambda **_: runner.send_message("bench_lag", lag.stop())
    )


def _start_worker_arrival(environment: Environment, runner: WorkerRunner) -> None:
    """The open model on a worker: set up by its first user's first turn, when the master's
    options (its rates and the number of workers sharing them) have surely come with the
    spawn message (a worker started by hand has none before; and Locust's test_start was
    not seen to fire on the workers `--processes` forks). The master opens the first window
    after the warm-up, so the model's messages are registered long before."""
    options = environment.parsed_options
    if options is None or not options.arrival_rates or open_model.model_of(environment):
        return
    rates = arrival.ArrivalRates.from_arg(options.arrival_rates)
    share = 1 / max(1, int(options.expect_workers))
    open_model.install(environment, rates, share, f"worker {runner.worker_index}")
    open_model.WorkerArrival(_open_model(environment), runner)


def _arrival_turn(environment: Environment) -> dict[str, float]:
    """A user's wait for its turn on the open model's schedule ({} in a closed loop)."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner) and open_model.model_of(environment) is None:
        _start_worker_arrival(environment, runner)
    return open_model.turn_context(environment)


class _EarlyEnd:
    """Ends a distributed run before its windows complete (a refused or lost worker): the
    controller's greenlet is stopped, the reason written, the results gathered, the runner
    quit. Called from Locust's message handler or the roster's watcher, so the work runs in
    a greenlet of its own (quitting the runner kills the handler's greenlet)."""

    def __init__(self, controller: WindowController) -> None:
        self.controller = controller
        self.hooks: StepHooks | None = None
        self.greenlet: gevent.Greenlet[Any, Any] | None = None

    def __call__(self, reason: str) -> None:
        gevent.spawn(self._end, reason)

    def _end(self, reason: str) -> None:
        if self.controller.record.completed or self.hooks is None:
            return
        if self.greenlet is not None:
            self.greenlet.kill(block=True)
        self.controller.abort(reason, self.hooks)
        if self.controller.record.load_started_at is None:
            # refused while Locust's main greenlet still waits for the expected workers:
            # quitting the runner does not end that loop (it would wait out
            # --expect-workers-max-wait), Locust's own SIGTERM handler does, writing its
            # files and exiting as on any stop
            os.kill(os.getpid(), signal.SIGTERM)


def _observers(
    options: Any, latency: WindowObserver, open_recording: WindowObserver | None = None
) -> WindowObserver:
    """The latency recorder, plus the server's own counters when the harness names them,
    plus the open model's recording in an arrival-rate run."""
    observers = [latency, *([open_recording] if open_recording is not None else [])]
    if options.server_counts_dir:
        output = (
            Path(options.window_file).with_name(SERVER_COUNTS_FILE) if options.window_file else None
        )
        observers.append(ServerCountsObserver(Path(options.server_counts_dir), output))
    return observers[0] if len(observers) == 1 else ObserverChain(tuple(observers))


def _open_model(environment: Environment) -> open_model.ArrivalModel:
    model = open_model.model_of(environment)
    assert model is not None
    return model


def _arrival_file(options: Any) -> Path | None:
    """arrival.json next to the window file (none without it)."""
    return Path(options.window_file).with_name(arrival.FILE_NAME) if options.window_file else None


def _latency_files(options: Any) -> tuple[Path | None, Path | None]:
    """latency.json and window_progress.json, next to the window file (none without it)."""
    if not options.window_file:
        return None, None
    directory = Path(options.window_file).parent
    return directory / latency.FILE_NAME, directory / progress.FILE_NAME


def _write_step_stats(environment: Environment, options: Any, index: int, users: int) -> str:
    """Write this step's statistics in the format of Locust's own locust_stats.csv, next to
    the window file, and return the file's name."""
    directory = Path(options.window_file).parent if options.window_file else Path.cwd()
    name = f"locust_stats_step{index + 1:02d}_u{users}.csv"
    with (directory / name).open("w", newline="") as handle:
        StatsCSV(environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(handle))
    return name


def _worker_reset(runner: WorkerRunner, lag: LoopLagMonitor) -> None:
    """Drop what this worker has not reported yet, then tell the master. Messages from one
    worker arrive in order, so every report sent before the reset reaches the master
    before this acknowledgement does. The worker's loop-lag measurement starts here."""
    runner.stats.reset_all()
    lag.start()
    runner.send_message("bench_reset_done", {})


def _merge_lag(controller: WindowController, message: Any) -> None:
    merge_lag(controller.record, message.data)
    controller.write()


class _DistributedReset:
    """Window start with several Locust processes: reset every worker, and the master's
    totals only once all workers have acknowledged (so no pre-window report is counted)."""

    ACK_TIMEOUT_S = 10.0

    def __init__(self, runner: MasterRunner) -> None:
        self.runner = runner
        self.pending = 0
        self.done = Event()

    def acknowledge(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self.done.set()

    def run(self) -> None:
        self.pending = self.runner.worker_count
        self.done.clear()
        self.runner.send_message("bench_reset", {})
        self.done.wait(timeout=self.ACK_TIMEOUT_S)
        self.runner.stats.reset_all()


@events.cpu_warning.add_listener
def on_cpu_warning(environment: Environment, cpu_usage: float, **_: Any) -> None:
    controller = _controller(environment)
    if controller is not None:
        controller.cpu_warning(cpu_usage)


class ApiUser(FastHttpUser):
    """An API client with no think time. In a closed loop (the default) the server's capacity
    is what limits it; with --arrival-rates it is one of the open model's bounded pool,
    sending each request at its turn on the schedule (loadtests/arrival_processes.py)."""

    wait_time = constant(0)
    # FastHttpUser's default is insecure=True (no certificate or host name check): a
    # benchmark of an https deployment must know it measured that deployment.
    insecure = False

    def __init__(self, environment: Environment) -> None:
        options = environment.parsed_options
        ca_file = str(getattr(options, "target_ca", "") or "")
        if ca_file:
            self.ssl_context_factory = partial(verified_context, ca_file)
        super().__init__(environment)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert options is not None
        index = _next_account(self.environment, options.seeded_users)
        self.account = UserContext(
            username=f"{options.user_prefix}{index:04d}", password=options.user_password
        )
        self.scenario: Scenario = SCENARIOS[options.scenario]
        self.burn_ms = float(options.burn_ms)
        self.tokens: TokenPair | None = None
        logged_in = False
        try:
            logged_in = self._take_issued_tokens(options.tokens_file) or self._login(
                SETUP_LOGIN_NAME
            )
            # an issued access token may have expired while the server started (a short
            # ACCESS_LIFETIME): renew it the way the load would, before the first request
            if logged_in and self.tokens is not None and self.tokens.needs_refresh():
                self._renew()
                logged_in = self.tokens is not None
            logged_in = logged_in and (not self.scenario.needs_items or self._learn_items())
        finally:  # a crash here must not leave the window waiting for this user
            _report_ready(self.environment, logged_in)

    def _take_issued_tokens(self, tokens_file: str) -> bool:
        """Use the pair the app issued for this account (no PBKDF2 login over HTTP, so the
        server's CPU before the window goes to the scenario, not to password hashing)."""
        if not tokens_file:
            return False
        pair = issued_pairs(self.environment, tokens_file).get(self.account.username)
        if pair is None:
            return False
        self.tokens = TokenPair.from_response(*pair)
        return True

    @task
    def scenario_step(self) -> None:
        if self.tokens is None or self.tokens.needs_refresh():
            self._renew()
        if self.tokens is None:
            return
        if self.burn_ms > 0:
            _burn_cpu(self.burn_ms)
        endpoint = self.scenario.pick(self.account.rng)
        # the open model: wait for this user's turn on the schedule (closed loop: no wait)
        self._send(endpoint, _arrival_turn(self.environment))

    def _send(self, endpoint: Endpoint, context: dict[str, float]) -> None:
        try:
            call = endpoint.build(self.account)
        except LookupError as missing:
            self.environment.events.request.fire(
                request_type="CHECK",
                name=endpoint.name,
                response_time=0,
                response_length=0,
                exception=missing,
                context=context,
            )
            return
        unauthorized = False
        with self._request(call, endpoint.name, endpoint.authenticated, context) as response:
            body = _json_or_none(response)
            problem = endpoint.verdict(response.status_code, body, call, self.account)
            if problem is None:
                response.success()
            else:
                response.failure(problem)
                unauthorized = response.status_code == 401 and endpoint.authenticated
        if unauthorized:
            self._renew()

    def _request(
        self, call: Call, name: str, authenticated: bool, context: dict[str, float] | None = None
    ) -> Any:
        headers = {}
        if authenticated and self.tokens is not None:
            headers["Authorization"] = f"Bearer {self.tokens.access}"
        return self.client.request(
            call.method,
            call.path,
            name=name,
            json=call.payload,
            headers=headers,
            catch_response=True,
            context=context or {},
        )

    def _login(self, name: str) -> bool:
        call = Call(
            "POST",
            TOKEN_PATH,
            {"username": self.account.username, "password": self.account.password},
        )
        with self._request(call, name, authenticated=False) as response:
            return self._accept_tokens(response, "login")

    def _renew(self) -> None:
        """Refresh (rotating the refresh token); log in again if the refresh is refused."""
        if self.tokens is not None:
            call = Call("POST", REFRESH_PATH, {"refresh": self.tokens.refresh})
            with self._request(call, REFRESH_NAME, authenticated=False) as response:
                if self._accept_tokens(response, "refresh"):
                    return
        self._login(f"POST {TOKEN_PATH}")

    def _accept_tokens(self, response: Any, what: str) -> bool:
        body = _json_or_none(response)
        if response.status_code != 200 or not isinstance(body, dict):
            # no status at all: the connection failed; its error (a TLS certificate that
            # does not verify, a refused connection) is the reason, not "status 0"
            error = getattr(response, "error", None) if not response.status_code else None
            cause = f" ({error})" if error is not None else ""
            response.failure(f"{what}: status {response.status_code}{cause}")
            self.tokens = None
            return False
        try:
            self.tokens = TokenPair.from_response(body["access"], body["refresh"])
        except (KeyError, TypeError, TokenFormatError) as error:
            response.failure(f"{what}: bad token answer ({error})")
            self.tokens = None
            return False
        response.success()
        return True

    def _learn_items(self) -> bool:
        if self.tokens is None:
            return False
        with self._request(
            Call("GET", "/api/items/"), "GET /api/items/ (setup)", authenticated=True
        ) as response:
            body = _json_or_none(response)
            if response.status_code != 200 or not isinstance(body, dict):
                response.failure(f"item list: status {response.status_code}")
                return False
            for item in body.get("results", []):
                self.account.remember_item(int(item["id"]))
            response.success()
        return True


def verified_context(ca_file: str, **_: Any) -> ssl.SSLContext:
    """geventhttpclient's ssl_context_factory with a CA file: the context trusts that file's
    certificates (it calls the factory with the default `cafile`, which is not ours);
    certificate and host name checks stay on since `insecure` is False."""
    context: ssl.SSLContext = gevent.ssl.create_default_context(cafile=ca_file)
    return context


def issued_pairs(environment: Environment, tokens_file: str) -> dict[str, tuple[str, str]]:
    """username -> (access, refresh): a worker's share as the master sent it (the file is
    on the master's machine), else the tokens file, read once per Locust process."""
    worker = getattr(environment, "bench_worker", None)
    if isinstance(worker, WorkerSide):
        return worker.issued_pairs()
    cached = getattr(environment, "bench_issued_pairs", None)
    if isinstance(cached, dict):
        return cached
    pairs = read_pairs(Path(tokens_file))
    environment.bench_issued_pairs = pairs  # type: ignore[attr-defined]
    return pairs


def _burn_cpu(milliseconds: float) -> None:
    end = time.perf_counter() + milliseconds / 1000
    while time.perf_counter() < end:
        pass


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except Exception:  # not JSON, empty, or a connection error: the verdict says why
        return None


def _next_account(environment: Environment, seeded_users: int) -> int:
    """1-based account index, different for every simulated user of this run (cycling when
    there are more users than accounts). Workers take disjoint shares by Locust's own
    worker index and the expected worker count the master sends (loadtests/partition.py)."""
    runner = environment.runner
    options = environment.parsed_options
    if isinstance(runner, WorkerRunner):
        worker_index = runner.worker_index
        workers = int(getattr(options, "expect_workers", 1) or 1)
    else:
        worker_index, workers = 0, 1
    issued = getattr(environment, "bench_accounts_issued", 0)
    environment.bench_accounts_issued = issued + 1  # type: ignore[attr-defined]
    return account_number(issued, worker_index, workers, seeded_users)


def _report_ready(environment: Environment, logged_in: bool) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        runner.send_message("bench_user_ready", {"logged_in": logged_in})
        return
    controller = _controller(environment)
    if controller is not None:
        controller.user_ready(logged_in)
