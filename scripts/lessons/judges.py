"""The lesson's verdicts, computed from the runs: one judge per section, named in sections.py.

Comparisons go through the report's verdict engine (Welch on logs, 95 % CI, a practical
threshold). A claim is called confirmed, partly true or out of date only where the
comparisons it rests on came out decided; inconclusive, not enough data, failed runs or a
noisy machine make it "not supported by this run", with the reason. A quick lesson says its
verdicts are quick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Final

from scripts.lessons.evidence import ExperimentRuns, median
from scripts.lessons.findings import Fact, Figure, Finding, Rating, Series
from scripts.lessons.leaks import read_probes
from scripts.lessons.recycling import read_recycling
from scripts.reporting.verdicts import Comparison, Outcome, Verdict, headline, judge

# A lesson effect is large: a threaded server must serve at least this many times what the
# serial one does before "it serves requests concurrently" is said.
CONCURRENCY_RATIO: Final = 2.0
# A serial server's goodput may grow this much from the lowest to the highest load (the
# window's own edges) and still be called flat.
SERIAL_GROWTH: Final = 1.5
# Two worker processes must serve this much more than one on a CPU-bound endpoint.
PROCESS_GAIN: Final = 1.3
NORMAL_ANSWER_SHARE: Final = 1.0  # every probe answered within 1 s: "kept answering"


Experiments = Mapping[str, ExperimentRuns]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _facts(**facts: Fact) -> Mapping[str, Fact]:
    return MappingProxyType(facts)


def _failures(*experiments: ExperimentRuns) -> list[str]:
    failed = [run for experiment in experiments for run in experiment.failed]
    return [f"{run.label}: {run.meta.status.value} ({run.meta.reason})" for run in failed]


def _unsupported(
    reason: str,
    *experiments: ExperimentRuns,
    figures: tuple[Figure, ...] = (),
    comparisons: tuple[str, ...] = (),
    chart: Series | None = None,
) -> Finding:
    caveats = tuple(_failures(*experiments))
    return Finding(Rating.NOT_SUPPORTED, reason, figures, comparisons, chart, caveats)


def _compare(experiment: ExperimentRuns, base: str, cand: str, users: int | None) -> Verdict:
    return judge(
        Comparison(
            "goodput_rps",
            base,
            experiment.goodput(base, users),
            cand,
            experiment.goodput(cand, users),
        )
    )


def _decided(verdict: Verdict) -> bool:
    return verdict.outcome in (Outcome.FASTER, Outcome.SLOWER, Outcome.NO_DIFFERENCE)


def _noise_caveat(*experiments: ExperimentRuns) -> tuple[str, ...]:
    if any(experiment.noisy() for experiment in experiments):
        return ("the machine was noisy during some windows (steal or other processes' CPU)",)
    return ()


def single_threaded(experiments: Experiments) -> Finding:
    """Section 1: threaded runserver against --nothreading on the I/O endpoint."""
    io = experiments["io"]
    steps = io.users()
    labels = io.labels()
    lines = {label: tuple(median(io.goodput(label, users)) for users in steps) for label in labels}
    chart = Series(
        "Goodput on the I/O-bound endpoint (each request waits 50 ms)",
        "concurrent users",
        "successful requests per second",
        tuple(str(users) for users in steps),
        MappingProxyType(lines),
        kind="line",
    )
    figures = tuple(
        Figure(
            label,
            {f"{users} users": _rate(value) for users, value in zip(steps, line, strict=True)},
        )
        for label, line in lines.items()
    )
    threaded, serial = "runserver", "runserver-nothreading"
    if not steps or threaded not in lines or serial not in lines:
        return _unsupported("runserver or runserver --nothreading has no usable run", io)
    top, bottom = steps[-1], steps[0]
    verdict = _compare(io, serial, threaded, top)
    comparisons = (headline(verdict),)
    caveats = (*_failures(io), *_noise_caveat(io))
    serial_low, serial_high = lines[serial][0], lines[serial][-1]
    if not _decided(verdict) or verdict.ratio is None or serial_low is None or not serial_high:
        return _unsupported(
            f"the comparison at {top} users was {verdict.outcome.value}",
            io,
            figures=figures,
            comparisons=comparisons,
            chart=chart,
        )
    serial_is_flat = serial_high <= serial_low * SERIAL_GROWTH
    if verdict.outcome is Outcome.FASTER and verdict.ratio >= CONCURRENCY_RATIO and serial_is_flat:
        reason = (
            f"runserver starts a thread per request: at {top} users it served "
            f"{verdict.ratio:.1f} times what --nothreading served ({_rate(lines[threaded][-1])} "
            f"against {_rate(serial_high)} requests per second), while --nothreading stayed "
            f"serial from {bottom} to {top} users ({_rate(serial_low)} to "
            f"{_rate(serial_high)}). The claim describes --nothreading, not runserver since "
            "Django 1.4."
        )
        return Finding(Rating.OUT_OF_DATE, reason, figures, comparisons, chart, caveats)
    if verdict.outcome is not Outcome.FASTER and serial_is_flat:
        reason = (
            f"runserver served no more than --nothreading at {top} users: in this run it "
            "answered one request at a time"
        )
        return Finding(Rating.CONFIRMED, reason, figures, comparisons, chart, caveats)
    return _unsupported(
        f"runserver was {verdict.outcome.value} than --nothreading at {top} users, but not by "
        f"{CONCURRENCY_RATIO:g} times with --nothreading flat",
        io,
        figures=figures,
        comparisons=comparisons,
        chart=chart,
    )


def concurrent_cpu(experiments: Experiments) -> Finding:
    """Section 2: one process and the GIL against two worker processes, CPU-bound."""
    cpu = experiments["cpu"]
    labels = cpu.labels()
    values = {label: median(cpu.goodput(label)) for label in labels}
    per_core = {
        run.label: run.window().resources.rps_per_cpu_core  # type: ignore[union-attr]
        for run in cpu.runs
        if run.usable and run.window() is not None
    }
    loadgen = {
        run.label: run.window().resources.loadgen_cpu_pct  # type: ignore[union-attr]
        for run in cpu.runs
        if run.usable and run.window() is not None
    }
    chart = Series(
        "Goodput on the CPU-bound endpoint, 8 users, both cores",
        "configuration",
        "successful requests per second",
        tuple(labels),
        MappingProxyType({"goodput": tuple(values[label] for label in labels)}),
    )
    figures = tuple(
        Figure(
            label,
            {
                "goodput rps": _rate(values[label]),
                "rps per deployment core": _rate(per_core.get(label)),
                "Locust CPU %": _rate(loadgen.get(label)),
            },
        )
        for label in labels
    )
    one, many = "runserver", "gunicorn (2 workers)"
    single = "gunicorn"
    if one not in values or many not in values:
        return _unsupported("runserver or gunicorn with 2 workers has no usable run", cpu)
    against_runserver = _compare(cpu, one, many, None)
    same_shape = _compare(cpu, one, single, None) if single in values else None
    comparisons = tuple(
        headline(verdict) for verdict in (against_runserver, same_shape) if verdict is not None
    )
    caveats = (*_failures(cpu), *_noise_caveat(cpu))
    ratio = against_runserver.ratio
    if against_runserver.outcome is Outcome.FASTER and ratio is not None and ratio >= PROCESS_GAIN:
        reason = (
            f"on a CPU-bound endpoint one Python process holds the GIL, however many threads "
            f"it starts: two gunicorn worker processes served {ratio:.1f} times what runserver "
            "did. What makes the difference is processes, not runserver as such"
        )
        if same_shape is not None and same_shape.outcome is Outcome.NO_DIFFERENCE:
            reason += ": one gunicorn worker served no more than runserver"
        return Finding(
            Rating.PARTLY_TRUE,
            reason + ".",
            figures,
            comparisons,
            chart,
            caveats,
            facts=_facts(process_gain=ratio),
        )
    return _unsupported(
        f"two gunicorn workers against runserver: {against_runserver.outcome.value}",
        cpu,
        figures=figures,
        comparisons=comparisons,
        chart=chart,
    )


def _slow_share(figures: Mapping[str, object] | None) -> float | None:
    slow = figures.get("slow_clients") if figures else None
    if not isinstance(slow, Mapping) or not slow.get("probes"):
        return None
    return float(slow["answered_within_1s"]) / float(slow["probes"])


def protection(experiments: Experiments) -> Finding:
    """Section 4: the slow clients and oversized requests (alone and behind nginx), then
    what an error page shows with DEBUG on and off and what `check --deploy` reports."""
    shielded = _slow_clients(experiments)
    reading = read_probes(experiments.get("error_pages"), experiments.get("deploy_check"))
    sentences = [shielded.reason.rstrip(".")]
    sentences += [sentence[0].upper() + sentence[1:] for sentence in reading.sentences]
    return replace(
        shielded,
        reason=". ".join(sentences) + ".",
        tables=(*shielded.tables, *reading.tables),
        caveats=(*shielded.caveats, *reading.caveats),
        facts=MappingProxyType({**shielded.facts, **reading.facts}),
    )


def _slow_clients(experiments: Experiments) -> Finding:
    """Who keeps answering while slow clients hold connections, alone and behind nginx,
    and what oversized requests get."""
    alone, behind = experiments["robust_alone"], experiments["robust_nginx"]
    labels = alone.labels()
    shares_alone = {label: _slow_share(alone.robustness(label)) for label in labels}
    shares_behind = {label: _slow_share(behind.robustness(label)) for label in labels}

    def oversize(figures: Mapping[str, object] | None) -> str:
        found = figures.get("oversize") if figures else None
        if not isinstance(found, Mapping):
            return "-"
        return f"header {found.get('header_status') or 'no answer'}, body " + str(
            found.get("body_status") or "no answer"
        )

    figures = tuple(
        Figure(
            label,
            {
                "answered within 1 s, alone": _share(shares_alone[label]),
                "behind nginx": _share(shares_behind[label]),
                "oversized, alone": oversize(alone.robustness(label)),
                "oversized, behind nginx": oversize(behind.robustness(label)),
            },
        )
        for label in labels
    )
    chart = Series(
        "Normal requests answered within 1 s while 50 slow clients hold connections",
        "server",
        "share of probes answered within 1 s",
        tuple(labels),
        MappingProxyType(
            {
                "alone": tuple(shares_alone[label] for label in labels),
                "behind nginx": tuple(shares_behind[label] for label in labels),
            }
        ),
    )
    if any(value is None for value in (*shares_alone.values(), *shares_behind.values())):
        return _unsupported(
            "a server lacks its robustness figures", alone, behind, figures=figures, chart=chart
        )
    starved = [label for label, share in shares_alone.items() if share == 0]
    protected = [label for label, share in shares_behind.items() if share == NORMAL_ANSWER_SHARE]
    caveats = tuple(_failures(alone, behind))
    if starved and set(protected) == set(labels):
        runserver_kept = (shares_alone.get("runserver") or 0) >= NORMAL_ANSWER_SHARE
        reason = (
            f"slow clients starved {', '.join(starved)} of workers: no normal request was "
            "answered within 1 s while they trickled headers; behind nginx, which buffers "
            "requests before passing them on, every server answered every probe at once"
        )
        if runserver_kept:
            reason += (
                ". runserver's thread per connection kept it answering here: what it lacks "
                "is not this but audits and bounds (its threads are unbounded; section 3). "
                "The protection people deploy is the proxy"
            )
        facts: dict[str, Fact] = {
            "starved_alone": tuple(starved),
            "nginx_kept_all_answering": "yes",
        }
        return Finding(
            Rating.PARTLY_TRUE,
            reason + ".",
            figures,
            (),
            chart,
            caveats,
            facts=MappingProxyType(facts),
        )
    return _unsupported(
        "no server was starved alone, or nginx did not keep every server answering",
        alone,
        behind,
        figures=figures,
        chart=chart,
    )


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def proxy_cost(experiments: Experiments) -> Finding:
    """Section 5: what nginx in front costs in goodput, server by server."""
    alone, behind = experiments["alone"], experiments["nginx"]
    labels = alone.labels()
    verdicts = []
    for label in labels:
        verdicts.append(
            judge(
                Comparison(
                    "goodput_rps",
                    f"{label} alone",
                    alone.goodput(label),
                    f"{label} behind nginx",
                    behind.goodput(label),
                )
            )
        )
    figures = tuple(
        Figure(
            label,
            {
                "goodput alone": _rate(median(alone.goodput(label))),
                "behind nginx": _rate(median(behind.goodput(label))),
                "ratio (95 % CI)": (
                    "-"
                    if verdict.ratio is None
                    else f"{verdict.ratio:.2f} ({verdict.ci_low:.2f}-{verdict.ci_high:.2f})"
                ),
            },
        )
        for label, verdict in zip(labels, verdicts, strict=True)
    )
    chart = Series(
        "Goodput of the mixed scenario, alone and behind nginx",
        "server",
        "successful requests per second",
        tuple(labels),
        MappingProxyType(
            {
                "alone": tuple(median(alone.goodput(label)) for label in labels),
                "behind nginx": tuple(median(behind.goodput(label)) for label in labels),
            }
        ),
    )
    comparisons = tuple(headline(verdict) for verdict in verdicts)
    caveats = (*_failures(alone, behind), *_noise_caveat(alone, behind))
    if not verdicts or any(v.outcome is Outcome.NOT_ENOUGH_DATA for v in verdicts):
        return _unsupported(
            "not enough usable runs to measure the cost",
            alone,
            behind,
            figures=figures,
            comparisons=comparisons,
            chart=chart,
        )
    costs = [
        f"{label} {_cost_text(verdict)}" for label, verdict in zip(labels, verdicts, strict=True)
    ]
    cost = "what nginx cost in goodput: " + "; ".join(costs)
    short_costs = tuple(
        f"{label} {_cost_text(verdict, interval=False)}"
        for label, verdict in zip(labels, verdicts, strict=True)
    )
    shielded = _slow_clients(experiments)
    if shielded.rating is Rating.NOT_SUPPORTED:
        return _unsupported(
            f"the protection was not shown ({shielded.reason}); {cost}",
            alone,
            behind,
            figures=figures,
            comparisons=comparisons,
            chart=chart,
        )
    reason = (
        f"behind nginx the sync servers kept answering while slow clients starved them "
        f"alone (section 4); {cost}. The claim rests on that protection; a cost whose CI "
        "crosses the threshold stays inconclusive"
    )
    return Finding(
        Rating.CONFIRMED,
        reason + ".",
        figures,
        comparisons,
        chart,
        caveats,
        facts=_facts(nginx_cost=short_costs),
    )


def _cost_text(verdict: Verdict, *, interval: bool = True) -> str:
    """The goodput nginx cost, with the outcome (and the ratio's CI unless `interval` is
    False, for the recommendation's one line)."""
    if verdict.ratio is None:
        return verdict.outcome.value
    change = abs(1 - verdict.ratio) * 100
    direction = "less" if verdict.ratio < 1 else "more"
    if not interval:
        return f"{change:.0f} % {direction} goodput ({verdict.outcome.value})"
    ci = f"95 % CI of the ratio {verdict.ci_low:.2f}-{verdict.ci_high:.2f}"
    return f"{change:.0f} % {direction} goodput ({verdict.outcome.value}, {ci})"


def _stop_outcomes(figures: Mapping[str, object] | None) -> Mapping[str, int] | None:
    stop = figures.get("graceful_stop") if figures else None
    outcomes = stop.get("outcomes") if isinstance(stop, Mapping) else None
    return outcomes if isinstance(outcomes, Mapping) else None


def graceful_stop(experiments: Experiments) -> Finding:
    """Section 7: requests in flight at a stop, answered or cut, per server; then worker
    recycling under load."""
    alone = experiments["robust_alone"]
    labels = alone.labels()
    outcomes = {label: _stop_outcomes(alone.robustness(label)) for label in labels}
    answered = {label: (found or {}).get("ok", 0) for label, found in outcomes.items()}
    total = {label: sum((found or {}).values()) for label, found in outcomes.items()}
    figures = tuple(
        Figure(
            label,
            {
                "answered": f"{answered[label]} of {total[label]}",
                "outcomes": ", ".join(f"{k} x {v}" for k, v in (outcomes[label] or {}).items())
                or "-",
            },
        )
        for label in labels
    )
    chart = Series(
        "Requests in flight when the server was asked to stop: answered",
        "server",
        "requests answered (of 10)",
        tuple(labels),
        MappingProxyType({"answered": tuple(float(answered[label]) for label in labels)}),
    )
    servers = [run.meta.server for run in alone.runs]
    recycling = read_recycling(experiments.get("recycling"), servers)
    tables = () if recycling.table is None else (recycling.table,)
    caveats = (*_failures(alone), *recycling.caveats)
    facts: dict[str, Fact] = dict(recycling.facts)
    if any(found is None for found in outcomes.values()) or "runserver" not in outcomes:
        return _unsupported(
            "a server lacks its graceful-stop figures", alone, figures=figures, chart=chart
        )
    production = [label for label in labels if not label.startswith("runserver")]
    finished = [label for label in production if answered[label] > 0]
    facts |= {
        "stop_answered_by": tuple(finished),
        "stop_cut_by": tuple(label for label in labels if answered[label] == 0),
    }
    after = f" {recycling.sentence}." if recycling.sentence else ""
    if answered["runserver"] == 0 and production and finished == production:
        reason = (
            "asked to stop, runserver cut every request in flight; "
            + ", ".join(f"{label} answered {answered[label]}" for label in production)
            + " (the requests its workers were serving; ones still queued were refused or "
            "reset, which a proxy in front turns into 502s)."
        )
        return Finding(
            Rating.CONFIRMED,
            reason + after,
            figures,
            (),
            chart,
            caveats,
            tables,
            MappingProxyType(facts),
        )
    cut = [label for label in production if answered[label] == 0]
    reason = (
        "runserver answered requests in flight"
        if answered["runserver"]
        else f"{', '.join(cut)} answered none of the requests in flight"
    )
    return Finding(
        Rating.NOT_SUPPORTED,
        reason + "." + after,
        figures,
        (),
        chart,
        caveats,
        tables,
        MappingProxyType(facts),
    )


def asgi_payoff(experiments: Experiments) -> Finding:
    """Section 6: the async view under ASGI servers against the sync view under every
    server, at the I/O bench's top step."""
    sync, asynchronous = experiments["io"], experiments["async"]
    users = max(sync.users(), default=0)
    sync_labels = [
        label for label in sync.labels() if label.split(" ")[0] in ("gunicorn", "uvicorn", "daphne")
    ]
    async_labels = asynchronous.labels()
    rows = {f"{label}, sync view": median(sync.goodput(label, users)) for label in sync_labels}
    rows |= {f"{label}, async view": median(asynchronous.goodput(label)) for label in async_labels}
    figures = tuple(Figure(label, {"goodput rps": _rate(value)}) for label, value in rows.items())
    chart = Series(
        f"Goodput at {users} users on a 50 ms wait: sync DRF view or async Django view",
        "server and view",
        "successful requests per second",
        tuple(rows),
        MappingProxyType({"goodput": tuple(rows.values())}),
    )
    threaded = "gunicorn"
    if "uvicorn" not in async_labels or threaded not in sync_labels:
        return _unsupported(
            "Uvicorn's async run or gunicorn sync's run is missing",
            sync,
            asynchronous,
            figures=figures,
            chart=chart,
        )
    payoff = judge(
        Comparison(
            "goodput_rps",
            f"{threaded}, sync view",
            sync.goodput(threaded, users),
            "uvicorn, async view",
            asynchronous.goodput("uvicorn"),
        )
    )
    handoff = judge(
        Comparison(
            "goodput_rps",
            "uvicorn, async view",
            asynchronous.goodput("uvicorn"),
            "uvicorn, sync view",
            sync.goodput("uvicorn", users),
        )
    )
    comparisons = (headline(payoff), headline(handoff))
    caveats = (*_failures(sync, asynchronous), *_noise_caveat(sync, asynchronous))
    if payoff.outcome is Outcome.FASTER and payoff.ratio and payoff.ratio >= CONCURRENCY_RATIO:
        reason = (
            f"where a view awaits I/O, one ASGI process served {payoff.ratio:.1f} times what "
            f"one gunicorn sync worker did at {users} users (the table has gthread too). "
            "DRF's views are sync: under "
            "Uvicorn they run in a thread pool, and the same wait as a sync view gave "
            f"{_rate(median(sync.goodput('uvicorn', users)))} requests per second against "
            f"{_rate(median(asynchronous.goodput('uvicorn')))} as an async view. ASGI pays "
            "off for async code, not for a sync DRF app; real-time (WebSockets) is what "
            "Daphne was built for and is not measured here"
        )
        return Finding(
            Rating.PARTLY_TRUE,
            reason + ".",
            figures,
            comparisons,
            chart,
            caveats,
            facts=_facts(async_payoff=payoff.ratio, users=float(users)),
        )
    return _unsupported(
        f"the async view under Uvicorn against gunicorn sync: {payoff.outcome.value}",
        sync,
        asynchronous,
        figures=figures,
        comparisons=comparisons,
        chart=chart,
    )


# runserver's threads "grow with the load" when they pass this share of the users.
THREADS_PER_USER: Final = 0.5


def overload(experiments: Experiments) -> Finding:
    """Section 3: threads, memory, latency and errors under far more users than fit."""
    runs = experiments["overload"]
    rows: dict[str, dict[str, str]] = {}
    threads: dict[str, int | None] = {}
    users = 0
    for run in runs.runs:
        window = run.window()
        if window is None:
            continue
        users = window.users
        figures, resources = window.figures, window.resources
        threads[run.label] = resources.server_threads_peak
        rows[run.label] = {
            "goodput rps": _rate(figures.goodput_rps),
            "p50 ms": _rate(figures.p50_ms),
            "p99 ms": _rate(figures.p99_ms),
            "error rate": f"{figures.error_rate * 100:.1f} %",
            "most threads": "-"
            if resources.server_threads_peak is None
            else str(resources.server_threads_peak),
            "peak RSS MB": _rate(resources.server_rss_peak_mb),
            "users whose first request failed": str(
                run.summary.logins_failed if run.summary and run.summary.logins_failed else 0
            ),
        }
    figures_out = tuple(Figure(label, cells) for label, cells in rows.items())
    chart = Series(
        f"Most OS threads of the server's processes with {users} users at once",
        "server",
        "threads",
        tuple(rows),
        MappingProxyType(
            {"threads": tuple(None if threads[k] is None else float(threads[k] or 0) for k in rows)}
        ),
    )
    refused = {
        run.label: run.summary.logins_failed
        for run in runs.runs
        if run.summary is not None and run.summary.logins_failed
    }
    caveats = (
        *_failures(runs),
        *(
            f"{label}: {count} of {users} users' first request (before the window) failed; "
            "the window measured the load the others made"
            for label, count in refused.items()
        ),
    )
    dev = threads.get("runserver")
    others = {label: count for label, count in threads.items() if label != "runserver"}
    if dev is None or not others or any(count is None for count in others.values()):
        return _unsupported(
            "a server has no thread count from the window", runs, figures=figures_out, chart=chart
        )
    floor = users * THREADS_PER_USER
    growing = sorted(label for label, count in others.items() if (count or 0) >= floor)
    bounded = {label: count or 0 for label, count in others.items() if label not in growing}
    overload_facts = _facts(
        runserver_threads=float(dev),
        users=float(users),
        bounded_threads=float(max(bounded.values(), default=0)),
        bounded_servers=tuple(bounded),
    )
    if dev >= floor and bounded and max(bounded.values()) < dev / 4:
        reason = (
            f"with {users} users at once runserver ran up to {dev} threads, a new one per "
            f"request with no bound, while {', '.join(bounded)} kept at most "
            f"{max(bounded.values())} and queued the rest: their latency grows, their thread "
            "count and memory do not"
        )
        if not growing:
            return Finding(
                Rating.CONFIRMED,
                reason + ".",
                figures_out,
                (),
                chart,
                caveats,
                facts=overload_facts,
            )
        reason += (
            f". But {', '.join(growing)} grew too ({', '.join(str(threads[g]) for g in growing)}"
            " threads): under ASGI, Django runs each sync request (all of DRF) in a thread of "
            "its own, so an unbounded thread count is not runserver's alone"
        )
        return Finding(
            Rating.PARTLY_TRUE, reason + ".", figures_out, (), chart, caveats, facts=overload_facts
        )
    return _unsupported(
        f"runserver ran {dev} threads for {users} users, the others up to {bounded}",
        runs,
        figures=figures_out,
        chart=chart,
    )


JUDGES: Final[Mapping[str, Callable[[Experiments], Finding]]] = MappingProxyType(
    {
        "overload": overload,
        "asgi_payoff": asgi_payoff,
        "graceful_stop": graceful_stop,
        "single_threaded": single_threaded,
        "concurrent_cpu": concurrent_cpu,
        "protection": protection,
        "proxy_cost": proxy_cost,
    }
)


def judge_section(name: str, experiments: Experiments) -> Finding:
    return JUDGES[name](experiments)


def figure_columns(figures: Sequence[Figure]) -> list[str]:
    """Every column the figures use, in first-seen order."""
    return list(dict.fromkeys(column for figure in figures for column in figure.cells))
