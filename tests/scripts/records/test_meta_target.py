"""meta.json's `target` (an external deployment): typed, read back, absent in older files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scripts.records.schema import ExternalTarget, RunMeta, SchemaError, read_meta

FIXTURE_RUN = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "runs").iterdir())[0]


def fixture_meta() -> RunMeta:
    return read_meta(FIXTURE_RUN / "meta.json")


def test_runs_made_before_targets_were_launched_by_the_harness() -> None:
    meta = fixture_meta()
    assert meta.target is None and not meta.external


def test_a_target_survives_the_round_trip_with_what_was_not_observed() -> None:
    target = ExternalTarget(url="https://h:8443/api", tls="verified", ca_file="/ca.pem")
    meta = replace(fixture_meta(), server="external", workers=0, target=target)
    document = meta.to_json()
    assert document["target"]["url"] == "https://h:8443/api"
    assert document["target"]["server_cpu_observed"] is False
    assert document["target"]["fresh_process_per_run"] is False
    back = RunMeta.from_json(document)
    assert back == meta and back.external
    assert isinstance(back.target, ExternalTarget)


def test_a_target_that_is_not_an_object_is_a_schema_error() -> None:
    document = fixture_meta().to_json()
    document["target"] = "https://h"
    with pytest.raises(SchemaError, match="target"):
        RunMeta.from_json(document)
    document["target"] = {"tls": "verified"}
    with pytest.raises(SchemaError, match="url"):
        RunMeta.from_json(document)
