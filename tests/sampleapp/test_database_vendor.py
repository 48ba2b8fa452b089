"""The suite runs on the database it was given: SQLite by default, PostgreSQL when
tests/sampleapp/test_on_postgres.py runs it on the harness's cluster."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.sampleapp.settings import TEST_DATABASE_ENV


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_it_was_given() -> None:
    given = os.environ.get(TEST_DATABASE_ENV, "")
    expected = "postgresql" if given.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
