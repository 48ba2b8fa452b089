"""servers.app.issue_tokens: the app issues the load's tokens through `manage.py`, fast."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from servers.app import AppCommandError, AppSettings, SeedPlan, issue_tokens
from tests.servers.conftest import SEED, TEST_SECRET_KEY

AUDIENCE = "drf-server-bench-api"
ISSUER = "drf-server-bench"


def test_issue_tokens_reads_back_one_signed_pair_per_seeded_user(
    app_settings: AppSettings, tmp_path: Path
) -> None:
    output = tmp_path / "tokens.json"

    issued = issue_tokens(app_settings, SEED, access_lifetime_s=5400, output=output)

    assert [user.username for user in issued.users] == [SEED.username(1), SEED.username(2)]
    assert issued.access_lifetime_s == 5400
    assert issued.path == output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert 0 < issued.command_wall_s < 30
    for user in issued.users:
        # the app's default audience and issuer (RFC 8725 3.8-3.9) are checked too
        claims = {"algorithms": ["HS256"], "audience": AUDIENCE, "issuer": ISSUER}
        access = jwt.decode(user.access, TEST_SECRET_KEY, **claims)  # type: ignore[arg-type]
        refresh = jwt.decode(user.refresh, TEST_SECRET_KEY, **claims)  # type: ignore[arg-type]
        assert access["token_type"] == "access"
        assert refresh["token_type"] == "refresh"
        assert access["user_id"] == refresh["user_id"]
        assert access["exp"] - access["iat"] == 5400
        assert issued.access_expires_at.timestamp() <= access["exp"]
    assert len({user.access for user in issued.users}) == len(issued.users)


def test_issue_tokens_for_users_that_were_not_seeded_fails_clearly(
    app_settings: AppSettings, tmp_path: Path
) -> None:
    more_than_seeded = SeedPlan(users=SEED.users + 1, items_per_user=0)

    with pytest.raises(AppCommandError, match=r"do not exist or are inactive: bench0003"):
        issue_tokens(app_settings, more_than_seeded, access_lifetime_s=60, output=tmp_path / "t")

    assert not (tmp_path / "t").exists()
