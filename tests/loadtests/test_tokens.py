"""When a user renews its access token: at 80 % of the lifetime, at most 10 s before expiry."""

from __future__ import annotations

import base64
import json
import time

import pytest

from loadtests.tokens import TokenFormatError, TokenPair, decode_claims


def _jwt(claims: dict[str, object]) -> str:
    """A token shaped like simplejwt's (the client never checks the signature)."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("lifetime_s", "margin_s"),
    [
        (300.0, 10.0),  # simplejwt's default 5 minutes: 20 % is 60 s, capped at 10 s
        (50.0, 10.0),  # exactly where 20 % reaches the cap
        (20.0, 4.0),  # short tokens renew at 80 % of their lifetime
        (1.0, 0.2),
    ],
)
def test_renewal_is_due_at_80_percent_capped_at_10_s(lifetime_s: float, margin_s: float) -> None:
    issued = 1_700_000_000
    pair = TokenPair.from_response(_jwt({"iat": issued, "exp": issued + lifetime_s}), "r")
    assert pair.access_expires_at == issued + lifetime_s
    assert pair.refresh_due_at == pytest.approx(issued + lifetime_s - margin_s)
    assert not pair.needs_refresh(now=pair.refresh_due_at - 0.01)
    assert pair.needs_refresh(now=pair.refresh_due_at)
    assert pair.needs_refresh(now=pair.access_expires_at + 1)


def test_without_iat_the_lifetime_counts_from_now() -> None:
    expires = time.time() + 100
    pair = TokenPair.from_response(_jwt({"exp": expires}), "r")
    assert pair.refresh_due_at == pytest.approx(expires - 10.0, abs=0.5)


def test_an_expired_token_is_due_at_once() -> None:
    pair = TokenPair.from_response(_jwt({"iat": 200, "exp": 100}), "r")
    assert pair.refresh_due_at == 100 and pair.needs_refresh(now=100)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b",
        "a.%%%.c",
        "e30." + base64.urlsafe_b64encode(b"[1, 2]").decode() + ".c",
        _jwt({"iat": 1}),  # no exp
        _jwt({"exp": "soon"}),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenFormatError):
        decode_claims(token)
    with pytest.raises(TokenFormatError):
        TokenPair.from_response(token, "r")
