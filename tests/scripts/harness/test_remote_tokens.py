"""A remote target's tokens (scripts/harness/remote_tokens.py) against the real sample app
with a strict login throttle: 429s are waited out as Retry-After says, every account gets
its pair, and a later run reuses the pairs that outlive it instead of logging in again."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from scripts.harness.remote_tokens import RemoteTokens, TokenLoginError
from servers.app import AppSettings, SeedPlan, prepare_database
from servers.ports import free_port
from servers.registry import get_server
from servers.supervisor import LaunchRequest, supervised

SEED = SeedPlan(users=4, items_per_user=1, password="throttled-pass-1", prefix="thr")


@pytest.mark.slow
def test_logins_wait_out_the_throttle_and_pairs_are_reused(tmp_path: Path) -> None:
    app = AppSettings(
        secret_key="remote-tokens-test-key-" + "t" * 40,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        login_throttle_address_rate="1/s",  # every login after the first waits
    )
    prepare_database(app, SEED)
    launch = LaunchRequest(
        spec=get_server("gunicorn"),
        app=app,
        host="127.0.0.1",
        port=free_port("127.0.0.1"),
        workers=1,
        threads=1,
        log_path=tmp_path / "server.log",
    )
    usernames = [SEED.username(index) for index in range(1, SEED.users + 1)]
    with supervised(launch) as server:
        tokens = RemoteTokens(server.base_url, SEED.password, None)
        first = tokens.obtain(usernames, time.time() + 60, tmp_path / "tokens.json")
        again = tokens.obtain(usernames, time.time() + 60, tmp_path / "tokens-2.json")
        wrong = RemoteTokens(server.base_url, "not-the-password", None)
        with pytest.raises(TokenLoginError, match=r"status 401.*DRF_BENCH_TARGET_PASSWORD"):
            wrong.obtain(usernames[:1], time.time(), tmp_path / "never.json")
    assert first.logins == 4 and first.reused == 0
    assert first.throttled >= 1 and first.throttle_wait_s >= first.throttled * 1.0
    assert first.access_lifetime_s == 300
    assert again.logins == 0 and again.reused == 4 and again.throttled == 0
    written = json.loads((tmp_path / "tokens.json").read_text())
    assert [user["username"] for user in written["users"]] == usernames
    assert all(user["access"] and user["refresh"] for user in written["users"])
    assert (tmp_path / "tokens.json").stat().st_mode & 0o077 == 0, "credentials: owner only"
    assert not (tmp_path / "never.json").exists()
