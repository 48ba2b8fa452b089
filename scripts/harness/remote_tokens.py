"""The load's JWTs for a remote target: HTTP logins before the window, within the throttle.

On its own machine the harness has the app issue every account's tokens (`manage.py
issue_tokens`: no password hashing); a remote deployment offers no such door, so each
account logs in once over HTTP (POST /api/auth/token/, one PBKDF2 hash on the server)
before Locust starts, never inside the window. The app throttles logins per account and per
client address (5/min and 20/min by default) and all of these come from one address: a 429
is waited out for as long as its Retry-After says, within a deadline, never retried blindly.

Pairs are kept for the whole bench and reused by later runs while their access token still
outlives the coming run (the locustfile renews a token at 80 % of its lifetime, so a pair
reused this way is never refreshed, and its refresh token never rotated away, in a run). The
file Locust reads has `manage.py issue_tokens`'s format, so the locustfile takes them the
same way.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loadtests.scenarios import TOKEN_PATH
from loadtests.tokens import TokenFormatError, TokenPair, decode_claims
from scripts.harness.session import SessionFailedError
from servers.http import request_json

THROTTLED = 429
DEFAULT_RETRY_AFTER_S = 5.0  # a 429 without Retry-After: wait this long before trying again
MIN_RETRY_AFTER_S = 0.5  # "Retry-After: 0" is no reason to hammer the login endpoint
LOGIN_DEADLINE_S = 600.0  # all of one run's logins, throttle waits included


class TokenLoginError(SessionFailedError):
    """A login was refused, or the throttle did not let every account in before the
    deadline; the message is the run's reason."""


@dataclass(frozen=True)
class LoginReport:
    """What obtaining one run's tokens took, for meta.json's `tokens`."""

    logins: int
    reused: int
    throttled: int  # 429 answers waited out
    throttle_wait_s: float
    obtain_s: float
    access_lifetime_s: int | None

    def as_meta(self, users: int) -> dict[str, object]:
        return {
            "source": "login over HTTP before the window (POST /api/auth/token/, one PBKDF2 "
            "hash on the server per login): a remote target cannot issue them",
            "users": users,
            "logins": self.logins,
            "reused_from_earlier_runs": self.reused,
            "throttled_answers": self.throttled,
            "throttle_wait_s": round(self.throttle_wait_s, 3),
            "obtain_s": round(self.obtain_s, 3),
            "access_lifetime_s": self.access_lifetime_s,
        }


def _lifetime_s(access: str) -> int | None:
    claims = decode_claims(access)
    issued, expires = claims.get("iat"), claims.get("exp")
    if isinstance(issued, int | float) and isinstance(expires, int | float):
        return round(expires - issued)
    return None


def _retry_after_s(header: str | None) -> float:
    try:
        return max(MIN_RETRY_AFTER_S, float(header)) if header else DEFAULT_RETRY_AFTER_S
    except ValueError:  # an HTTP date: not what DRF sends; wait the default
        return DEFAULT_RETRY_AFTER_S


@dataclass
class RemoteTokens:
    """The bench's token pairs by username, and where Locust reads them."""

    base_url: str
    password: str = field(repr=False)
    tls: ssl.SSLContext | None
    pairs: dict[str, TokenPair] = field(default_factory=dict)
    raw: dict[str, tuple[str, str]] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep

    def obtain(self, usernames: Sequence[str], needed_until: float, output: Path) -> LoginReport:
        """Log in every account whose pair would need renewing before `needed_until` (Unix
        seconds), write every pair to `output` (mode 0600) and say what it took."""
        started = time.monotonic()
        deadline = started + LOGIN_DEADLINE_S
        logins = reused = throttled = 0
        waited_s = 0.0
        for username in usernames:
            held = self.pairs.get(username)
            if held is not None and held.refresh_due_at > needed_until:
                reused += 1
                continue
            while True:
                answer = request_json(
                    "POST",
                    self.base_url + TOKEN_PATH,
                    payload={"username": username, "password": self.password},
                    tls=self.tls,
                )
                if answer.status != THROTTLED:
                    break
                pause = _retry_after_s(answer.retry_after)
                if time.monotonic() + pause > deadline:
                    raise TokenLoginError(
                        f"the target's login throttle let {logins} of {len(usernames)} "
                        f"accounts in within {LOGIN_DEADLINE_S:.0f} s; raise its "
                        "LOGIN_THROTTLE_*_RATE or use fewer USERS"
                    )
                throttled += 1
                waited_s += pause
                self.sleep(pause)
            self._accept(username, answer.status, answer.body)
            logins += 1
        self._write(usernames, output)
        first = self.raw.get(usernames[0]) if usernames else None
        return LoginReport(
            logins=logins,
            reused=reused,
            throttled=throttled,
            throttle_wait_s=waited_s,
            obtain_s=time.monotonic() - started,
            access_lifetime_s=_lifetime_s(first[0]) if first else None,
        )

    def access(self, username: str) -> str:
        """The access token held for `username` (after obtain)."""
        return self.raw[username][0]

    def _accept(self, username: str, status: int, body: object) -> None:
        if status != 200 or not isinstance(body, dict):
            hint = (
                " (check $DRF_BENCH_TARGET_USER_PREFIX and $DRF_BENCH_TARGET_PASSWORD, and that "
                "the target has USERS accounts seeded)"
                if status in {400, 401}
                else ""
            )
            raise TokenLoginError(f"login as {username} on the target: status {status}{hint}")
        try:
            access, refresh = str(body["access"]), str(body["refresh"])
            pair = TokenPair.from_response(access, refresh)
        except (KeyError, TokenFormatError) as error:
            raise TokenLoginError(
                f"login as {username}: no JWT pair in the answer ({error})"
            ) from None
        self.pairs[username] = pair
        self.raw[username] = (access, refresh)

    def _write(self, usernames: Sequence[str], output: Path) -> None:
        """The pairs in `manage.py issue_tokens`'s format (the locustfile's --tokens-file),
        readable by this user only: they are credentials."""
        document = {
            "issued_at": datetime.now(UTC).isoformat(),
            "access_lifetime_s": _lifetime_s(self.raw[usernames[0]][0]) if usernames else 0,
            "users": [
                {"username": name, "access": self.raw[name][0], "refresh": self.raw[name][1]}
                for name in usernames
            ],
        }
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(document, handle)
