"""``manage.py issue_tokens``: working JWT pairs for the seeded users, no login, one user query."""

import json
import stat
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/auth/token/refresh/"


def seed_users(count: int, prefix: str = "bench") -> None:
    call_command("seed", users=count, items=0, prefix=prefix, stdout=StringIO())


def issue(output: Path, **options: object) -> tuple[dict[str, object], str]:
    out = StringIO()
    call_command("issue_tokens", output=str(output), stdout=out, **options)
    return json.loads(output.read_text()), out.getvalue()


def test_each_access_token_authenticates_as_its_own_user(tmp_path: Path) -> None:
    seed_users(3)

    document, output = issue(tmp_path / "tokens.json", users=3, access_lifetime_s=7200)

    users = document["users"]
    assert [user["username"] for user in users] == ["bench0001", "bench0002", "bench0003"]
    for user in users:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user['access']}")
        response = client.get("/api/me/")
        assert response.status_code == 200, response.content
        assert response.json()["username"] == user["username"]
    assert output.startswith("issued 3 token pairs (access lifetime 7200 s) in ")


def test_access_lifetime_comes_from_the_command_line(tmp_path: Path) -> None:
    seed_users(1)

    document, _ = issue(tmp_path / "tokens.json", users=1, access_lifetime_s=7200)

    access = AccessToken(document["users"][0]["access"])
    assert access["exp"] - access["iat"] == 7200
    assert document["access_lifetime_s"] == 7200
    issued_at = datetime.fromisoformat(document["issued_at"])
    assert issued_at.utcoffset() is not None
    assert issued_at.timestamp() <= access["iat"]


def test_refresh_tokens_are_outstanding_and_rotate(tmp_path: Path) -> None:
    seed_users(2)
    document, _ = issue(tmp_path / "tokens.json", users=2, access_lifetime_s=600)
    refresh = document["users"][1]["refresh"]
    assert OutstandingToken.objects.filter(jti=RefreshToken(refresh)["jti"]).exists()
    client = APIClient()

    rotated = client.post(REFRESH_URL, {"refresh": refresh}, format="json")
    replay = client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert rotated.status_code == 200, rotated.content
    assert rotated.json()["refresh"] != refresh
    assert replay.status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated.json()['access']}")
    assert client.get("/api/me/").json()["username"] == "bench0002"


def test_all_users_are_read_in_one_query(tmp_path: Path) -> None:
    seed_users(16)

    with CaptureQueriesContext(connection) as queries:
        issue(tmp_path / "tokens.json", users=16, access_lifetime_s=600)

    user_reads = [
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and "auth_user" in q["sql"]
    ]
    assert len(user_reads) == 1, user_reads


def test_missing_users_are_a_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    seed_users(2)
    output = tmp_path / "tokens.json"

    with pytest.raises(CommandError, match=r"2 of 4 users do not exist .*bench0003, bench0004"):
        issue(output, users=4, access_lifetime_s=600)

    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_custom_prefix_is_honoured(tmp_path: Path) -> None:
    seed_users(1, prefix="load")

    document, _ = issue(tmp_path / "tokens.json", users=1, prefix="load", access_lifetime_s=600)

    assert document["users"][0]["username"] == "load0001"
    with pytest.raises(CommandError, match="bench0001"):
        issue(tmp_path / "other.json", users=1, access_lifetime_s=600)


def test_the_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    seed_users(1)
    output = tmp_path / "tokens.json"
    output.write_text("stale")
    output.chmod(0o644)

    issue(output, users=1, access_lifetime_s=600)

    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert json.loads(output.read_text())["users"][0]["username"] == "bench0001"
    assert [path.name for path in tmp_path.iterdir()] == ["tokens.json"]


@pytest.mark.parametrize("bad", ["0", "-5", "soon"])
def test_lifetime_must_be_a_positive_whole_number(tmp_path: Path, bad: str) -> None:
    with pytest.raises(CommandError, match="expected a whole number >= 1"):
        call_command(
            "issue_tokens", "--access-lifetime-s", bad, "--output", str(tmp_path / "t.json")
        )
