"""The readiness probe and the JSON error pages for requests outside DRF."""

from unittest import mock

from django.db import OperationalError
from django.test import RequestFactory
from rest_framework.test import APIClient

from api.errors import server_error


def test_healthz_is_200_without_auth(api_client: APIClient, db: None) -> None:
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "sqlite"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_fails(api_client: APIClient, db: None) -> None:
    broken = mock.MagicMock(vendor="sqlite")
    broken.cursor.side_effect = OperationalError("unable to open database file")

    with mock.patch("api.views.connection", broken):
        response = api_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "detail": "unable to open database file"}


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
