"""scripts/harness/calibration/sides.py: the CPU figures a side records over its window, and
wrk's token script against a real local server. (The sides themselves run against a real
app server in tests/scripts/test_calibrate.py.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.harness.calibration.sides import (
    WRK_SCRIPT_NAME,
    cpu_ms_per_request,
    side_resources,
    write_wrk_inputs,
)
from scripts.harness.machine_cpu import CpuReading, MachineCpu
from scripts.harness.sampling import Sample
from scripts.harness.wrk import WrkRequest, run_wrk
from servers.app import IssuedTokens, UserTokens
from tests.scripts.harness.calibration.records import fixture_record
from tests.scripts.test_wrk import require_wrk


def test_cpu_per_request_is_what_the_fixture_recorded() -> None:
    for pair in fixture_record().pairs:
        for side in (pair.wrk, pair.harness):
            assert side is not None
            cost = cpu_ms_per_request(side.resources.server_cpu_pct, side.rps)
            assert cost == pytest.approx(side.resources.server_cpu_ms_per_request)
    assert cpu_ms_per_request(None, 100.0) is None
    assert cpu_ms_per_request(50.0, 0.0) is None, "no answer: no cost per answer"


def _samples(role: str, cpu_pcts: list[float]) -> list[Sample]:
    return [
        Sample(10.0 + second, role, cpu, 50.0, 2, cpu, (0,)) for second, cpu in enumerate(cpu_pcts)
    ]


def test_other_cpu_is_the_machines_busy_cpu_less_server_and_generator() -> None:
    # the first sample of each role is a priming zero and is skipped
    samples = _samples("server", [0.0, 90.0, 100.0]) + _samples("loadgen", [0.0, 30.0, 30.0])
    machine = MachineCpu()
    machine.readings = [CpuReading(11.0, 100.0, 5.0), CpuReading(12.0, 101.5, 5.02)]
    resources = side_resources(samples, machine, 11.0, 12.0, rps=380.0)
    assert resources.server_cpu_pct == pytest.approx(95.0)
    assert resources.loadgen_cpu_pct == pytest.approx(30.0)
    assert resources.machine_cpu_pct == pytest.approx(150.0)
    assert resources.other_cpu_pct == pytest.approx(25.0)
    assert resources.steal_pct == pytest.approx(2.0)
    assert resources.server_cpu_ms_per_request == pytest.approx(2.5)
    quiet = MachineCpu()
    quiet.readings = [CpuReading(11.0, 100.0, 0.0), CpuReading(12.0, 101.0, 0.0)]
    assert side_resources(samples, quiet, 11.0, 12.0, rps=380.0).other_cpu_pct == 0.0
    unsampled = side_resources(samples, MachineCpu(), 11.0, 12.0, rps=380.0)
    assert unsampled.machine_cpu_pct is None and unsampled.other_cpu_pct is None


class _OneTokenServer(BaseHTTPRequestHandler):
    """200 for "Bearer good", 401 for any other token; keeps connections alive."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == "Bearer good"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.slow
def test_wrks_script_sends_the_issued_tokens_in_turn(tmp_path: Path) -> None:
    binary = Path(require_wrk())
    tokens = IssuedTokens(
        issued_at=datetime.now(UTC),
        access_lifetime_s=60,
        users=(UserTokens("a", "good", "r1"), UserTokens("b", "bad", "r2")),
        path=tmp_path / "tokens.json",
        command_wall_s=0.0,
    )
    script, tokens_file = tmp_path / WRK_SCRIPT_NAME, tmp_path / "wrk-tokens.txt"
    write_wrk_inputs(tokens, script, tokens_file)
    assert tokens_file.read_text() == "good\nbad\n" and tokens_file.stat().st_mode & 0o077 == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OneTokenServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = WrkRequest(
            binary=binary,
            url=f"http://127.0.0.1:{server.server_address[1]}/api/me/",
            connections=2,
            duration_s=1,
            token=None,
            script=script,
            script_args=(str(tokens_file),),
        )
        result = run_wrk(request, tmp_path / "wrk.txt").result()
    finally:
        server.shutdown()
        server.server_close()
    assert result.requests > 20
    # every other request carried the refused token
    assert abs(result.non_2xx_3xx - result.requests / 2) <= 1, result
