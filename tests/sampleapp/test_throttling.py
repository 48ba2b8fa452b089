"""Login throttling: on by default, per username and per client address, shared by processes.

In-process tests use the production defaults (5/min per account, 20/min per address) through
the test client; the last test runs two separate Django processes on one database file, the way
two worker processes of a server share counts.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test import override_settings
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.sampleapp.helpers import PASSWORD, run_in_sampleapp
from tests.sampleapp.test_settings import STRONG_KEY

TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"
USER_LIMIT = 5
FULL_WIDTH_ALICE = "".join(chr(ord(letter) - ord("a") + 0xFF41) for letter in "alice")
ADDRESS_LIMIT = 20


def login(client: APIClient, username: str, password: str, **extra: str) -> int:
    response = client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )
    return response.status_code


def test_defaults_match_the_settings_under_test() -> None:
    rates = api_settings.DEFAULT_THROTTLE_RATES

    assert rates == {"login_user": f"{USER_LIMIT}/min", "login_address": f"{ADDRESS_LIMIT}/min"}


def test_one_username_is_throttled_after_the_limit_even_with_the_right_password(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    statuses = [login(api_client, "alice", "wrong-guess") for _ in range(USER_LIMIT)]

    response = api_client.post(
        TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert statuses == [401] * USER_LIMIT
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "access" not in response.json()


def test_spellings_of_one_username_share_a_bucket(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    spellings = ["alice", "ALICE", "Alice", FULL_WIDTH_ALICE, "aLiCe"]
    statuses = [login(api_client, name, "wrong-guess") for name in spellings]

    assert statuses == [401] * USER_LIMIT
    assert login(api_client, "alice", PASSWORD) == 429


def test_other_usernames_are_not_throttled_by_one_user_s_limit(
    api_client: APIClient, user: AbstractBaseUser, other_user: AbstractBaseUser
) -> None:
    for _ in range(USER_LIMIT):
        login(api_client, "alice", "wrong-guess")

    assert login(api_client, "bob", PASSWORD) == 200


def test_one_address_is_throttled_across_usernames(api_client: APIClient, db: None) -> None:
    statuses = [login(api_client, f"guess{i}", "pw") for i in range(ADDRESS_LIMIT)]

    assert statuses == [401] * ADDRESS_LIMIT
    assert login(api_client, "guess-next", "pw") == 429
    assert login(api_client, "guess-from-elsewhere", "pw", REMOTE_ADDR="10.0.0.2") == 401


def test_a_forwarded_for_header_does_not_choose_the_bucket(api_client: APIClient, db: None) -> None:
    statuses = [
        login(api_client, f"guess{i}", "pw", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
        for i in range(ADDRESS_LIMIT + 1)
    ]

    assert statuses == [401] * ADDRESS_LIMIT + [429]


def test_refresh_is_throttled_per_account(api_client: APIClient, user: AbstractBaseUser) -> None:
    statuses = []
    for _ in range(USER_LIMIT + 1):
        refresh = str(RefreshToken.for_user(user))
        statuses.append(
            api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code
        )

    assert statuses == [200] * USER_LIMIT + [429]


def test_made_up_refresh_tokens_do_not_use_up_an_account_s_allowance(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    for _ in range(USER_LIMIT + 1):
        api_client.post(REFRESH_URL, {"refresh": "not.a.token"}, format="json")

    response = api_client.post(
        REFRESH_URL, {"refresh": str(RefreshToken.for_user(user))}, format="json"
    )

    assert response.status_code == 200


@override_settings(
    REST_FRAMEWORK={
        **{k: v for k, v in api_settings.user_settings.items() if k != "DEFAULT_THROTTLE_RATES"},
        "DEFAULT_THROTTLE_RATES": {"login_user": None, "login_address": None},
    }
)
def test_off_disables_the_throttle(api_client: APIClient, user: AbstractBaseUser) -> None:
    statuses = {login(api_client, "alice", "wrong-guess") for _ in range(ADDRESS_LIMIT + 1)}

    assert statuses == {401}


def test_counts_are_kept_in_the_database(api_client: APIClient, user: AbstractBaseUser) -> None:
    login(api_client, "alice", "wrong-guess")

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM api_throttle_cache")
        (rows,) = cursor.fetchone()

    assert rows == 2  # one per-address and one per-account count


SHELL_LOGINS = """
from django.test import Client
client = Client()
print([client.post("/api/auth/token/", {}, content_type="application/json").status_code
       for _ in range({count})])
"""


def test_two_processes_share_one_count(tmp_path: Path) -> None:
    """Two worker processes of one server must see each other's counts: with a per-process
    cache (DRF's default), the second process would start from zero."""
    env = {
        "SECRET_KEY": STRONG_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
        "LOGIN_THROTTLE_ADDRESS_RATE": "2/min",
    }
    migrated = run_in_sampleapp(["manage.py", "migrate", "--noinput", "-v", "0"], env)
    assert migrated.returncode == 0, migrated.stderr

    statuses = []
    for count in (2, 1):
        shell = ["manage.py", "shell", "-c", SHELL_LOGINS.replace("{count}", str(count))]
        done = run_in_sampleapp(shell, env)
        assert done.returncode == 0, done.stderr
        statuses.append(json.loads(done.stdout.strip().splitlines()[-1]))

    assert statuses == [[400, 400], [429]]


def test_migrate_creates_the_cache_table_and_unmigrating_drops_it(tmp_path: Path) -> None:
    env = {"SECRET_KEY": STRONG_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    tables = (
        "from django.db import connection; "
        "print('api_throttle_cache' in connection.introspection.table_names())"
    )
    steps = [
        ["manage.py", "migrate", "--noinput", "-v", "0"],
        ["manage.py", "shell", "-c", tables],
        ["manage.py", "migrate", "api", "0001", "--noinput", "-v", "0"],
        ["manage.py", "shell", "-c", tables],
    ]
    outputs = []
    for step in steps:
        done = run_in_sampleapp(step, env)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")

    assert outputs[1] == "True"
    assert outputs[3] == "False"
