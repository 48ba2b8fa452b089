"""The readiness probe and the JSON error pages for requests outside DRF."""

import logging
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import RequestFactory
from rest_framework.test import APIClient

from api.errors import server_error


def test_healthz_is_200_without_auth(api_client: APIClient, db: None) -> None:
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # the vendor the suite runs on: sqlite, or postgresql under test_on_postgres.py
    assert response.json() == {"status": "ok", "database": connection.vendor}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_without_the_driver_text_which_goes_to_the_log(
    api_client: APIClient, db: None, caplog: pytest.LogCaptureFixture
) -> None:
    driver_text = "could not connect to server at 10.1.2.3 as user secret_admin"
    broken = mock.MagicMock(vendor="postgresql")
    broken.cursor.side_effect = OperationalError(driver_text)

    with caplog.at_level(logging.ERROR), mock.patch("api.views.connection", broken):
        response = api_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "detail": "Database unavailable."}
    assert driver_text not in response.content.decode()
    logged = [r for r in caplog.records if r.name == "api.views" and r.levelno == logging.ERROR]
    assert len(logged) == 1
    assert driver_text in logged[0].getMessage()


def test_healthz_answers_only_its_exact_path_and_safe_methods(
    api_client: APIClient, db: None
) -> None:
    assert api_client.get("/healthz/").status_code == 404
    assert api_client.head("/healthz").status_code == 200
    assert api_client.post("/healthz").status_code == 405


def test_unknown_url_is_a_json_404(api_client: APIClient, db: None) -> None:
    response = api_client.get("/no/such/page")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_disallowed_host_is_a_json_400(api_client: APIClient, db: None) -> None:
    response = api_client.get("/healthz", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_server_error_page_is_json_without_details() -> None:
    response = server_error(RequestFactory().get("/api/me/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"detail": "Server error."}'
