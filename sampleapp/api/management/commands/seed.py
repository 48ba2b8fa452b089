"""``manage.py seed``: create the benchmark users and their items, quickly and idempotently.

Django hashes passwords with PBKDF2 at 1,000,000 iterations (about half a CPU-second each), so
each distinct password is hashed once and the encoded value is reused for every user that
shares it. Rows are written with bulk operations inside one transaction.
"""

import argparse
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Count

from api.models import Item


def non_negative_int(raw: str) -> int:
    """argparse type for counts: a whole number >= 0."""
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {raw!r}")
    return value


class Command(BaseCommand):
    help = (
        "Create USERS users named PREFIX0001.. plus a demo user, each with ITEMS items. "
        "Idempotent: existing users get their password reset and their items topped up to "
        "ITEMS (extra items are left alone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=non_negative_int, default=16, help="default 16")
        parser.add_argument(
            "--items", type=non_negative_int, default=20, help="items per user, default 20"
        )
        parser.add_argument("--prefix", default="bench", help="username prefix, default bench")
        parser.add_argument("--password", default="bench-pass-123")
        parser.add_argument("--demo-username", default="demo")
        parser.add_argument("--demo-password", default="demo-pass-123")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        user_count: int = options["users"]
        items_per_user: int = options["items"]
        passwords = {
            f"{options['prefix']}{i:04d}": options["password"] for i in range(1, user_count + 1)
        }
        passwords[options["demo_username"]] = options["demo_password"]
        with transaction.atomic():
            _upsert_users(passwords)
            _top_up_items(list(passwords), items_per_user)
        elapsed_s = time.perf_counter() - started
        self.stdout.write(
            f"seeded {user_count} users (+{options['demo_username']}) "
            f"with {items_per_user} items each in {elapsed_s:.2f} s"
        )


def _upsert_users(passwords: dict[str, str]) -> None:
    """Create missing users and reset existing ones, hashing each distinct password once."""
    user_model = get_user_model()
    encoded = {raw: make_password(raw) for raw in set(passwords.values())}
    existing = set(
        user_model.objects.filter(username__in=passwords).values_list("username", flat=True)
    )
    for raw, hashed in encoded.items():
        names = [name for name in existing if passwords[name] == raw]
        if names:
            user_model.objects.filter(username__in=names).update(password=hashed, is_active=True)
    user_model.objects.bulk_create(
        [
            user_model(username=name, password=encoded[raw], is_active=True)
            for name, raw in passwords.items()
            if name not in existing
        ]
    )


def _top_up_items(usernames: list[str], items_per_user: int) -> None:
    """Give each user ``items_per_user`` items, creating only the ones that are missing."""
    owners = (
        get_user_model()
        .objects.filter(username__in=usernames)
        .annotate(item_count=Count("items"))
        .values_list("pk", "username", "item_count")
    )
    Item.objects.bulk_create(
        [
            Item(
                owner_id=pk,
                title=f"{username} item {number}",
                body=f"Seeded item {number} of {username}.",
                done=number % 3 == 0,
            )
            for pk, username, item_count in owners
            for number in range(item_count + 1, items_per_user + 1)
        ],
        batch_size=1000,
    )
