"""The Kubernetes example is a LocustTest whose Locust options this locustfile accepts."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml  # PyYAML, installed with uvicorn[standard]

PROJECT_DIR = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT_DIR / "loadtests" / "kubernetes" / "locusttest.yaml"

# Locust's own parser with the locustfile's options, in a child (importing Locust
# monkey-patches the interpreter), parsing one command line as the operator completes it.
_PARSE = (
    "import sys\n"
    "import loadtests.locustfile  # registers its options with Locust's parser event\n"
    "from locust.argument_parser import get_parser\n"
    "get_parser().parse_args(sys.argv[1:])\n"
)


def _parses(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PARSE, *argv],
        capture_output=True, text=True, timeout=60, check=False, cwd=PROJECT_DIR,
    )  # fmt: skip


def test_the_manifest_passes_only_options_the_locustfile_knows() -> None:
    document = yaml.safe_load(MANIFEST.read_text())
    assert (document["apiVersion"], document["kind"]) == ("locust.io/v2", "LocustTest")
    spec = document["spec"]
    assert spec["worker"]["replicas"] >= 1
    local = str(PROJECT_DIR / "loadtests" / "locustfile.py")
    master = shlex.split(spec["master"]["command"].replace("/app/loadtests/locustfile.py", local))
    worker = shlex.split(spec["worker"]["command"].replace("/app/loadtests/locustfile.py", local))
    appended = [["--master", "--expect-workers", "4"], ["--worker", "--master-host", "m"]]
    for argv, extra in ((master, appended[0]), (worker, appended[1])):
        parsed = _parses([*argv, *extra])
        assert parsed.returncode == 0, parsed.stderr
    assert _parses(["--no-such-option"]).returncode != 0  # the check can fail
