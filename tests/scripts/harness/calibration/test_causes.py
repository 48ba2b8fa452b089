"""Candidate causes of extra server CPU per request: their names, where their sides go in
a pair, the Lua script that changes one thing (run through the real wrk against a
server that records what it received), the CPU loop beside wrk, each effect's reading
from pairs of known spread, and calibration.json holding it all."""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import psutil
import pytest

from scripts.harness.calibration.analysis import with_cause_effects
from scripts.harness.calibration.causes import CAUSES, cause_names, effect_verdict, wrk_script
from scripts.harness.calibration.plan import HARNESS, WRK, order_letters, with_causes
from scripts.harness.calibration.sides import generator_loops
from scripts.harness.calibration.text import cause_lines, evidence_lines
from scripts.records.schema import CalibrationRecord, SideResources
from tests.scripts.harness.calibration.records import fixture_record, pair
from tests.scripts.test_wrk import require_wrk


def test_all_names_every_candidate_and_an_unknown_one_is_refused() -> None:
    assert cause_names("all") == tuple(CAUSES)
    assert cause_names("busy-generator,locust-headers") == ("locust-headers", "busy-generator")
    with pytest.raises(argparse.ArgumentTypeError, match="expected all or one or more of"):
        cause_names("locust-headers,faster")


def test_the_candidates_sit_right_next_to_the_plain_wrk_side() -> None:
    causes = ("locust-headers", "one-token")
    assert with_causes((WRK, HARNESS), 0, causes) == ("locust-headers", "one-token", WRK, HARNESS)
    assert with_causes((HARNESS, WRK), 1, causes) == (HARNESS, WRK, "locust-headers", "one-token")
    assert with_causes((WRK, HARNESS), 0, ()) == (WRK, HARNESS)
    assert order_letters(("locust-headers", WRK, HARNESS, "busy-generator")) == ("X", "W", "H", "B")


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append({name.lower(): value for name, value in self.headers.items()})
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@contextmanager
def _recording_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: ClassVar[list[dict[str, str]]] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/me/", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("cause", [None, "locust-headers"])
def test_the_script_sends_each_token_in_turn_and_only_the_causes_headers(
    cause: str | None, tmp_path: Path
) -> None:
    wrk = require_wrk()
    script, tokens = tmp_path / "script.lua", tmp_path / "tokens.txt"
    script.write_text(wrk_script(CAUSES[cause] if cause else None))
    tokens.write_text("token-a\ntoken-b\n")
    with _recording_server() as (url, seen):
        done = subprocess.run(
            [wrk, "-t1", "-c1", "-d1s", "-s", str(script), url, "--", str(tokens)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 0, done.stderr
    assert len(seen) > 2
    assert {headers["authorization"] for headers in seen} == {"Bearer token-a", "Bearer token-b"}
    if cause is None:
        assert all("user-agent" not in headers for headers in seen)
    else:
        extra = CAUSES[cause].extra_headers
        assert all(headers["user-agent"] == extra["User-Agent"] for headers in seen)
        assert all(headers["accept-encoding"] == "gzip, deflate, br" for headers in seen)
        assert extra["User-Agent"].startswith("python/gevent-http-client-")


def test_the_busy_generator_loop_keeps_its_cpu_busy_and_leaves_nothing(tmp_path: Path) -> None:
    cpu = min(psutil.Process().cpu_affinity() or [0])
    context = SimpleNamespace(
        plan=SimpleNamespace(placement=SimpleNamespace(loadgen_cpus=(cpu,))), directory=tmp_path
    )
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    with generator_loops(context, CAUSES["busy-generator"], 10.0):  # type: ignore[arg-type]
        time.sleep(0.5)  # past taskset's exec (it pins, then runs the loop) and its start
        loops = [c for c in psutil.Process().children(recursive=True) if c.pid not in before]
        assert len(loops) == 1 and loops[0].cpu_affinity() == [cpu]
        loops[0].cpu_percent()
        time.sleep(1.0)
        assert loops[0].cpu_percent() > 50
    assert {child.pid for child in psutil.Process().children(recursive=True)} <= before
    assert not list(tmp_path.iterdir()), "its output is removed"
    with generator_loops(context, CAUSES["locust-headers"], 10.0):  # type: ignore[arg-type]
        assert {child.pid for child in psutil.Process().children(recursive=True)} <= before


@pytest.mark.parametrize(
    ("point", "low", "high", "reading"),
    [
        (1.07, 1.04, 1.10, "higher"),
        (0.93, 0.90, 0.97, "lower"),
        (1.00, 0.99, 1.015, "within 2%"),
        (1.02, 0.99, 1.05, "inconclusive"),
        (1.02, None, None, "no CI"),
        (None, None, None, "not measured"),
    ],
)
def test_an_effect_reads_against_the_practical_share(
    point: float | None, low: float | None, high: float | None, reading: str
) -> None:
    assert effect_verdict(point, low, high) == reading


def _with_candidate(factor: float, spread: float, pairs: int = 12) -> CalibrationRecord:
    """Pairs whose plain wrk side cost the server 2 ms per request and the candidate's
    side `factor` times that, each with its own log-normal spread (seeded)."""
    rng = np.random.default_rng(5)
    measured = []
    for index in range(1, pairs + 1):
        plain = 2.0 * float(np.exp(rng.normal(0, spread)))
        mine = 2.0 * factor * float(np.exp(rng.normal(0, spread)))
        made = pair(
            index, 500.0, 480.0, wrk_resources=SideResources(server_cpu_ms_per_request=plain)
        )
        assert made.wrk is not None
        candidate = replace(
            made.wrk, rps=500.0 / factor, resources=SideResources(server_cpu_ms_per_request=mine)
        )
        measured.append(replace(made, causes={"busy-generator": candidate}))
    return replace(fixture_record(), pairs=tuple(measured), causes=("busy-generator",))


def test_a_candidate_with_a_real_effect_reads_higher_and_one_without_is_cleared() -> None:
    [effect] = with_cause_effects(_with_candidate(1.07, 0.005)).cause_effects
    assert effect.pairs == 12 and effect.server_cpu_reading == "higher"
    assert effect.server_cpu_per_request.point == pytest.approx(1.07, abs=0.01)
    assert effect.rps_reading == "lower"
    [cleared] = with_cause_effects(_with_candidate(1.0, 0.003)).cause_effects
    assert cleared.server_cpu_reading == "within 2%"
    [few] = with_cause_effects(_with_candidate(1.07, 0.005, pairs=3)).cause_effects
    assert few.server_cpu_reading == "no CI"


def test_calibration_json_keeps_the_candidates_sides_and_effects() -> None:
    record = with_cause_effects(_with_candidate(1.07, 0.005))
    again = CalibrationRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again == record
    assert (
        again.pairs[0].causes["busy-generator"].resources
        == record.pairs[0].causes["busy-generator"].resources
    )
    text = "\n".join(cause_lines(record) + evidence_lines(record))
    assert "busy-generator (a CPU loop runs on the load generator's CPUs" in text
    assert "server CPU per request x1.0" in text and ": higher; rps x" in text
    assert "median server CPU ms/request: wrk 1.99" in text and "wrk-busy-generator 2.13" in text


def test_a_record_without_candidates_writes_none() -> None:
    document = fixture_record().to_json()
    assert "causes" not in document and "cause_effects" not in document
    assert all("causes" not in pair for pair in document["pairs"])
