"""``manage.py issue_tokens``: JWT pairs for the seeded bench users, without a login.

Why: a login hashes the password with PBKDF2 (about 0.4 s of CPU each here), so logging 16
load users in over HTTP costs seconds of server CPU before any measurement. This command
issues the very tokens the login endpoint issues, with simplejwt's own ``RefreshToken.for_user``
(what its default obtain serializer calls), so the blacklist app records every refresh token
(rotation keeps working) and whatever the settings say about claims, audience, issuer or
signing is honoured. No password is hashed or checked.

The access tokens get the lifetime given on the command line, so one issue can cover a whole
bench: the server checks only their signature and ``exp``. Refresh tokens keep the lifetime
from settings; an access token obtained later through ``/api/auth/token/refresh/`` has the
settings' access lifetime again.

Output (JSON, written atomically with mode 0600, since these are credentials)::

    {"issued_at": "2026-12-01T10:00:00+00:00",   # ISO 8601, UTC, whole seconds, taken
                                                 # before any token, so issued_at +
                                                 # access_lifetime_s never overstates exp
     "access_lifetime_s": 3600,                  # each access token's exp - iat
     "users": [{"username": "bench0001", "access": "...", "refresh": "..."}, ...]}
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework_simplejwt.tokens import RefreshToken

CREDENTIALS_MODE = 0o600


def positive_int(raw: str) -> int:
    """argparse type for counts and lifetimes: a whole number >= 1."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {raw!r}")
    return value


class Command(BaseCommand):
    help = (
        "Issue an access + refresh JWT pair for each of the users PREFIX0001..PREFIX<USERS> "
        "(as created by `seed`) without a login, and write them as JSON (mode 0600) to OUTPUT."
    )
    # The system checks import every view and DRF with them (about 0.15 s of a 0.5 s call
    # here); the server runs them when it starts, and this command needs none of it.
    requires_system_checks: tuple[str, ...] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=positive_int, default=16, help="default 16")
        parser.add_argument("--prefix", default="bench", help="username prefix, default bench")
        parser.add_argument(
            "--access-lifetime-s",
            type=positive_int,
            required=True,
            help="lifetime of each access token in seconds (cover the whole bench)",
        )
        parser.add_argument("--output", type=Path, required=True, help="JSON file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        usernames = [f"{options['prefix']}{i:04d}" for i in range(1, options["users"] + 1)]
        lifetime = timedelta(seconds=options["access_lifetime_s"])
        issued_at = datetime.now(UTC).replace(microsecond=0)
        users = _users_by_name(usernames)
        pairs = []
        # One transaction: the OutstandingToken rows are committed together (one fsync).
        with transaction.atomic():
            for name in usernames:
                refresh = RefreshToken.for_user(users[name])
                access = refresh.access_token
                access.set_exp(from_time=refresh.current_time, lifetime=lifetime)
                # simplejwt gives the access token the iat of its own construction, a moment
                # later: across a second boundary exp - iat came out 1 s short of the lifetime
                access.set_iat(at_time=refresh.current_time)
                pairs.append({"username": name, "access": str(access), "refresh": str(refresh)})
        document = {
            "issued_at": issued_at.isoformat(),
            "access_lifetime_s": options["access_lifetime_s"],
            "users": pairs,
        }
        output = Path(options["output"])
        write_private_json(output, document)
        elapsed_s = time.perf_counter() - started
        self.stdout.write(
            f"issued {len(pairs)} token pairs (access lifetime {options['access_lifetime_s']} s) "
            f"in {elapsed_s:.3f} s -> {output}"
        )


def _users_by_name(usernames: list[str]) -> dict[str, Any]:
    """The active users with these names, in one query; CommandError naming any missing."""
    found = {
        user.get_username(): user
        for user in get_user_model().objects.filter(username__in=usernames, is_active=True)
    }
    missing = [name for name in usernames if name not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise CommandError(
            f"{len(missing)} of {len(usernames)} users do not exist or are inactive: {shown} "
            f"(create them first with: manage.py seed --users {len(usernames)})"
        )
    return found


def write_private_json(path: Path, document: object) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part, and
    never with wider permissions than the owner's (mkstemp creates the file 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as handle:
            os.fchmod(handle.fileno(), CREDENTIALS_MODE)
            json.dump(document, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
