"""``manage.py seed``: counts, idempotence, password reset, and one hash per password."""

import re
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from api.models import Item

pytestmark = pytest.mark.django_db


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed", stdout=out, **options)
    return out.getvalue()


def counts() -> tuple[int, int]:
    return get_user_model().objects.count(), Item.objects.count()


def test_seed_creates_users_demo_and_items() -> None:
    output = seed(users=3, items=4)

    usernames = set(get_user_model().objects.values_list("username", flat=True))
    assert usernames == {"bench0001", "bench0002", "bench0003", "demo"}
    assert counts() == (4, 16)
    assert all(user.items.count() == 4 for user in get_user_model().objects.all())
    assert re.fullmatch(r"seeded 3 users \(\+demo\) with 4 items each in \d+\.\d\d s\n", output)


def test_seed_defaults_are_16_users_with_20_items() -> None:
    seed()

    assert counts() == (17, 17 * 20)
    assert get_user_model().objects.filter(username="bench0016").exists()


def test_seed_is_idempotent_and_tops_items_up() -> None:
    seed(users=3, items=4)
    seed(users=3, items=4)
    assert counts() == (4, 16)

    bench1 = get_user_model().objects.get(username="bench0001")
    bench1.items.filter(pk__in=bench1.items.values("pk")[:3]).delete()
    seed(users=3, items=4)

    assert counts() == (4, 16)
    assert bench1.items.count() == 4


def test_seed_custom_names_and_more_users_later() -> None:
    seed(users=2, items=1, prefix="load", demo_username="showcase")
    seed(users=5, items=2, prefix="load", demo_username="showcase")

    usernames = set(get_user_model().objects.values_list("username", flat=True))
    assert usernames == {f"load{i:04d}" for i in range(1, 6)} | {"showcase"}
    assert counts() == (6, 12)


def test_seeded_passwords_work_for_login_and_are_reset_on_rerun() -> None:
    client = APIClient()
    seed(users=2, items=0)

    def login(username: str, password: str) -> int:
        body = {"username": username, "password": password}
        return client.post("/api/auth/token/", body, format="json").status_code

    assert login("bench0002", "bench-pass-123") == 200
    assert login("demo", "demo-pass-123") == 200

    seed(users=2, items=0, password="changed-pass", demo_password="changed-demo")

    assert login("bench0002", "bench-pass-123") == 401
    assert login("bench0002", "changed-pass") == 200
    assert login("demo", "changed-demo") == 200


@pytest.mark.parametrize(("demo_password", "hashes"), [("demo-pass-123", 2), ("same", 1)])
def test_seed_hashes_each_distinct_password_once(demo_password: str, hashes: int) -> None:
    with mock.patch("api.management.commands.seed.make_password", wraps=make_password) as hasher:
        seed(users=10, items=0, password="same", demo_password=demo_password)
        seed(users=10, items=0, password="same", demo_password=demo_password)

    assert hasher.call_count == 2 * hashes


def test_seed_rejects_negative_counts() -> None:
    with pytest.raises(CommandError, match="whole number >= 0"):
        call_command("seed", "--users", "-1", stdout=StringIO())
