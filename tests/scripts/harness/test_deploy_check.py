"""`manage.py check --deploy` read into figures, for real: the development settings (DEBUG
on, a django-insecure- key) get Django's W009 and W018, the production settings none."""

from __future__ import annotations

from pathlib import Path

from scripts.harness.deploy_check import deploy_check, read_check_output
from scripts.lessons.probes import development_settings, production_settings

OUTPUT = """System check identified some issues:

WARNINGS:
?: (security.W009) Your SECRET_KEY has less than 50 characters, ...
?: (security.W018) You should not have DEBUG set to True in deployment.

System check identified 2 issues (3 silenced).
"""


def test_the_output_is_read_into_check_ids_and_the_silenced_count() -> None:
    figures = read_check_output("development", True, OUTPUT)
    assert figures.check_ids == ("security.W009", "security.W018") and figures.count == 2
    assert figures.silenced == 3
    clean = read_check_output(
        "production", False, "System check identified no issues (3 silenced)."
    )
    assert clean.check_ids == () and clean.silenced == 3


def test_development_and_production_settings_for_real(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    development = deploy_check("development", development_settings(url))
    production = deploy_check("production", production_settings(url))
    assert development.check_ids == ("security.W009", "security.W018"), development.output
    assert production.check_ids == (), production.output
    assert development.debug and not production.debug
