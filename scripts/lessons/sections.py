"""The lesson's sections as data: the claim, its source, the experiment, and the benches.

Each section names the benches it needs as `make bench` flags (without durations and
repeats, which the lesson's mode sets, see schedule.py): the exact command that reproduces
an experiment is that bench's command line, and two sections that need the same bench share
one run of it. Each section's verdict is computed by the judge its `judge` names
(scripts/lessons/judges.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class Claim:
    """What teaching material says, word for word, and where it says it."""

    text: str
    source: str


@dataclass(frozen=True)
class Bounds:
    """What an experiment that provokes errors on purpose may take of the machine at most:
    client connections open at once (users, slow clients, probes and requests in flight)
    and resident memory of everything it starts (server, proxy, Locust). Its time is the
    schedule's estimate (scripts/lessons/schedule.py). tests/scripts/lessons/test_bounds.py
    holds the experiments to these."""

    connections: int
    memory_mb: float


@dataclass(frozen=True)
class Experiment:
    """One bench a section needs: a key its judge finds it by, and its flags. `checks_only`:
    what it measures are the checks after the load (figures, not a comparison), so one
    repetition is enough in every mode. `probe`: not a bench but one of the lesson's probes
    (scripts/lessons/probes.py), named; its flags are empty."""

    key: str
    flags: tuple[str, ...]
    checks_only: bool = False
    probe: str | None = None
    bounds: Bounds | None = None
    setup_s: float = 0.0  # what its users take to start, beyond the usual (measured)


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    claims: tuple[Claim, ...]
    experiment: str  # one sentence
    experiments: tuple[Experiment, ...]
    judge: str

    def experiment_named(self, key: str) -> Experiment:
        return next(experiment for experiment in self.experiments if experiment.key == key)


# Quoted from the material the project started from and from Django's own documentation.
_TUTORIALS: Final = "common tutorials on deploying Django, 2024-2026"
_DJANGO_DOCS: Final = "Django documentation, django-admin runserver (5.2)"

# Sections 1 and 6 share the I/O bench (6 reads its top step; Daphne is there for 6). Its top
# step stays below runserver's listen backlog (socketserver's request_queue_size, 10 in
# Django's WSGIServer): more connections at once than that and a serial server's clients
# wait on SYN retries, the users never all start, and the run fails instead of measuring.
_IO_STEPS: Final = Experiment(
    "io",
    (
        "--server",
        "runserver,runserver-nothreading,gunicorn,uvicorn,daphne",
        "--scenario",
        "io",
        "--shape",
        "steps",
        "--users",
        "1,4,8",
        "--workers",
        "1",
        "--threads",
        "1,4",
    ),
)

# Sections 4 and 5 share these two benches: robustness alone and behind nginx.
_ROBUSTNESS_FLAGS: Final = (
    "--server",
    "runserver,gunicorn,uwsgi",
    "--scenario",
    "me",
    "--users",
    "4",
    "--workers",
    "2",
    "--checks",
    "robustness",
)
# 4 users, 50 slow clients, 10 requests in flight at the stop, and the probes' one at a time
_ROBUST_BOUNDS: Final = Bounds(connections=4 + 50 + 10 + 2, memory_mb=1024.0)
_ROBUST_ALONE: Final = Experiment(
    "robust_alone", _ROBUSTNESS_FLAGS, checks_only=True, bounds=_ROBUST_BOUNDS
)
_ROBUST_NGINX: Final = Experiment(
    "robust_nginx",
    (*_ROBUSTNESS_FLAGS, "--proxy", "nginx"),
    checks_only=True,
    bounds=_ROBUST_BOUNDS,
)
OVERLOAD_USERS: Final = 200
# Users start at this rate, not all in one second, to spare runserver's listen queue (10
# connections) a burst of 200 SYNs; a client whose SYN was dropped retries after 1, 3, 7, 15
# and 31 s. Its users used to take far longer to start (runserver's overload run 36-69 s)
# while each listed its items before the load; the I/O scenario names no item, so none does
# now (loadtests/scenarios.py): measured on 2026-12-01, runserver's quick overload run took
# 8 s, every user running 3 s after the start. The margin is for the SYN retries.
OVERLOAD_SETUP_S: Final = 15.0
OVERLOAD_SPAWN_RATE: Final = 50.0

# Section 4's probes: an error page with DEBUG on and off, and Django's deployment check.
_ERROR_PAGES: Final = Experiment("error_pages", (), probe="error_pages")
_DEPLOY_CHECK: Final = Experiment("deploy_check", (), probe="deploy_check")

# Section 7's worker recycling: each server's max-requests setting, low enough that workers
# are replaced several times inside one window of steady load.
RECYCLE_AFTER_REQUESTS: Final = 100
_RECYCLING: Final = Experiment(
    "recycling",
    (
        "--server",
        "gunicorn,uwsgi",
        "--scenario",
        "me",
        "--users",
        "8",
        "--workers",
        "2",
        "--max-requests",
        str(RECYCLE_AFTER_REQUESTS),
        "--errors-expected",
    ),
    checks_only=True,
)

# Section 5's cost: the same bench alone and behind nginx.
_PROXY_COST_FLAGS: Final = (
    "--server",
    "gunicorn,uwsgi",
    "--scenario",
    "mixed",
    "--users",
    "16",
    "--workers",
    "2",
)

SECTIONS: Final[Mapping[int, Section]] = MappingProxyType(
    {
        1: Section(
            number=1,
            title="Is runserver single-threaded?",
            claims=(
                Claim(
                    "runserver is single-threaded, meaning it can only handle one request "
                    "at a time",
                    _TUTORIALS,
                ),
                Claim(
                    "the development server creates a new thread for each request it handles",
                    _DJANGO_DOCS,
                ),
            ),
            experiment="The I/O-bound endpoint (each request waits 50 ms, as for an upstream "
            "call) at 1, 4 and 8 concurrent users under threaded runserver, runserver "
            "--nothreading, one gunicorn sync worker, one gunicorn gthread worker with 4 "
            "threads, and one Uvicorn and one Daphne process: serial against threads, "
            "processes and an event loop.",
            experiments=(_IO_STEPS,),
            judge="single_threaded",
        ),
        2: Section(
            number=2,
            title="Is runserver inefficient for concurrent requests?",
            claims=(
                Claim(
                    "runserver is inefficient for handling concurrent requests; Gunicorn or "
                    "uWSGI handle multiple requests concurrently",
                    _TUTORIALS,
                ),
            ),
            experiment="The CPU-bound endpoint (pure Python, the GIL held) with 8 users under "
            "runserver (one process, a thread per request) and gunicorn with one and with two "
            "worker processes, on both cores (PIN=none: the server needs them; the load "
            "generator's share of the CPU is recorded).",
            experiments=(
                Experiment(
                    "cpu",
                    (
                        "--server",
                        "runserver,gunicorn",
                        "--scenario",
                        "cpu",
                        "--users",
                        "8",
                        "--workers",
                        "1,2",
                        "--pin",
                        "none",
                    ),
                ),
            ),
            judge="concurrent_cpu",
        ),
        3: Section(
            number=3,
            title="Overload: far more users than the server can serve",
            claims=(
                Claim(
                    "runserver is not designed to handle high traffic or many concurrent users",
                    _TUTORIALS,
                ),
                Claim(
                    "the development server creates a new thread for each request it handles",
                    _DJANGO_DOCS,
                ),
            ),
            experiment="200 users at once (started at 50 a second) on the I/O-bound endpoint "
            "(each request waits 50 ms) for one window, bounded in time, under runserver, "
            "one gunicorn sync worker and one Uvicorn process: goodput, latency, errors, and "
            "the most OS threads and memory each server's processes used. Errors are what "
            "this measures, not a gate.",
            experiments=(
                Experiment(
                    "overload",
                    (
                        "--server",
                        "runserver,gunicorn,uvicorn",
                        "--scenario",
                        "io",
                        "--users",
                        str(OVERLOAD_USERS),
                        "--spawn-rate",
                        f"{OVERLOAD_SPAWN_RATE:g}",
                        "--workers",
                        "1",
                        "--errors-expected",
                    ),
                    checks_only=True,
                    # each user holds one connection; the response check adds one
                    bounds=Bounds(connections=OVERLOAD_USERS + 2, memory_mb=1024.0),
                    setup_s=OVERLOAD_SETUP_S,
                ),
            ),
            judge="overload",
        ),
        4: Section(
            number=4,
            title="Does runserver lack protection? What protects a server?",
            claims=(
                Claim(
                    "runserver lacks security features and should not be exposed directly "
                    "to the internet",
                    _TUTORIALS,
                ),
                Claim(
                    "it has not gone through security audits or performance tests, hence is "
                    "unsuitable for production",
                    _DJANGO_DOCS,
                ),
            ),
            experiment="50 slow clients trickle request headers (for 10 s; 4 s in a quick "
            "lesson) while normal requests are timed, then an oversized header and body are "
            "sent, under runserver, "
            "gunicorn and uWSGI, each alone and behind nginx. Then an unknown URL and a "
            "request with a forged Host header (an exception inside Django; the app has no "
            "endpoint that fails on purpose) are sent to runserver and gunicorn with the "
            "development settings (DEBUG on, a django-insecure- key) and the production ones, "
            "and `manage.py check --deploy` is run with each.",
            experiments=(_ROBUST_ALONE, _ROBUST_NGINX, _ERROR_PAGES, _DEPLOY_CHECK),
            judge="protection",
        ),
        5: Section(
            number=5,
            title="Use Gunicorn or uWSGI behind nginx: what does the proxy cost?",
            claims=(
                Claim(
                    "Gunicorn or uWSGI belong behind Nginx or Apache",
                    _TUTORIALS,
                ),
            ),
            experiment="The same mixed load on gunicorn and uWSGI with two workers each, "
            "alone and behind nginx (SQLite both times, so only the proxy differs), beside "
            "what nginx protects against (section 4's slow clients).",
            experiments=(
                Experiment("alone", _PROXY_COST_FLAGS),
                Experiment("nginx", (*_PROXY_COST_FLAGS, "--proxy", "nginx")),
                _ROBUST_ALONE,
                _ROBUST_NGINX,
            ),
            judge="proxy_cost",
        ),
        6: Section(
            number=6,
            title="Daphne (ASGI) for real-time: what does ASGI cost a sync DRF app, and where "
            "does it pay off?",
            claims=(
                Claim(
                    "use Gunicorn or uWSGI for a regular app, and Daphne for real-time needs",
                    _TUTORIALS,
                ),
            ),
            experiment="8 users on an endpoint that waits 50 ms: written as a sync DRF view "
            "(what DRF offers) under gunicorn sync, gunicorn gthread (4 threads), Uvicorn and "
            "Daphne, and written as a plain Django async view (the same JWT check, one async "
            "query, asyncio.sleep) under Uvicorn and Daphne; one process each.",
            experiments=(
                _IO_STEPS,
                Experiment(
                    "async",
                    (
                        "--server",
                        "uvicorn,daphne",
                        "--scenario",
                        "io-async",
                        "--users",
                        "8",
                        "--workers",
                        "1",
                    ),
                ),
            ),
            judge="asgi_payoff",
        ),
        7: Section(
            number=7,
            title="Operations: what happens to requests in flight when a server stops, or "
            "replaces a worker?",
            claims=(
                Claim(
                    "production servers manage their processes: they shut down gracefully, "
                    "the development server does not (paraphrased)",
                    _TUTORIALS,
                ),
            ),
            experiment="Ten requests that each take 1 s are sent, and halfway through the "
            "server is asked to stop the way it is meant to be (its stop signal): which "
            "requests were answered and which were cut, under runserver, gunicorn and uWSGI "
            "with two workers (the last step of section 4's benches). Then 8 users load "
            f"gunicorn and uWSGI (two workers) set to replace a worker after every "
            f"{RECYCLE_AFTER_REQUESTS} requests (max-requests): how many workers were "
            "replaced inside the window, and how many requests failed.",
            experiments=(_ROBUST_ALONE, _RECYCLING),
            judge="graceful_stop",
        ),
    }
)
