"""JWT life cycle: obtain, refresh with rotation and blacklist, verify, and every way to fail."""

from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from api.serializers import TokenAlreadyUsed, rotate
from tests.sampleapp.conftest import ClientFactory
from tests.sampleapp.helpers import PASSWORD, tamper

TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"
VERIFY_URL = "/api/auth/token/verify/"

PROTECTED_URLS = [
    "/api/me/",
    "/api/items/",
    "/api/items/1/",
    "/api/slow/?ms=0",
    "/api/compute/?n=10",
]


def obtain(client: APIClient, username: str, password: str) -> dict[str, str]:
    response = client.post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_obtain_returns_access_and_refresh_that_work(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    tokens = obtain(api_client, "alice", PASSWORD)

    assert set(tokens) == {"access", "refresh"}
    assert AccessToken(tokens["access"])["user_id"] == str(user.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get("/api/me/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password", "status"),
    [("alice", "wrong-password", 401), ("nobody", PASSWORD, 401), ("alice", "", 400)],
)
def test_obtain_with_bad_credentials_fails(
    api_client: APIClient, user: AbstractBaseUser, username: str, password: str, status: int
) -> None:
    response = api_client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )

    assert response.status_code == status
    assert "access" not in response.json()


def test_obtain_for_inactive_user_is_401(api_client: APIClient, user: AbstractBaseUser) -> None:
    user.is_active = False
    user.save()

    response = api_client.post(
        TOKEN_URL, {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 401


def test_refresh_rotates_and_blacklists_the_old_refresh(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    old = obtain(api_client, "alice", PASSWORD)

    first = api_client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json")
    assert first.status_code == 200, first.content
    rotated = first.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != old["refresh"]

    replay = api_client.post(REFRESH_URL, {"refresh": old["refresh"]}, format="json")
    assert replay.status_code == 401

    again = api_client.post(REFRESH_URL, {"refresh": rotated["refresh"]}, format="json")
    assert again.status_code == 200


def test_refresh_rejects_an_access_token_and_a_tampered_refresh(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    tokens = obtain(api_client, "alice", PASSWORD)

    for bad in (tokens["access"], tamper(tokens["refresh"])):
        response = api_client.post(REFRESH_URL, {"refresh": bad}, format="json")
        assert response.status_code == 401


def test_verify_accepts_a_good_token_and_rejects_a_tampered_one(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    access = str(AccessToken.for_user(user))

    good = api_client.post(VERIFY_URL, {"token": access}, format="json")
    bad = api_client.post(VERIFY_URL, {"token": tamper(access)}, format="json")

    assert good.status_code == 200
    assert bad.status_code == 401


def test_auth_endpoints_need_no_token(api_client: APIClient, db: None) -> None:
    response = api_client.post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def expired_access(user: AbstractBaseUser) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(from_time=aware_utcnow() - timedelta(hours=1), lifetime=timedelta(minutes=5))
    return str(token)


BAD_CREDENTIALS = {
    "tampered": lambda user: f"Bearer {tamper(str(AccessToken.for_user(user)))}",
    "expired": lambda user: f"Bearer {expired_access(user)}",
    "refresh-as-access": lambda user: f"Bearer {RefreshToken.for_user(user)}",
    "garbage": lambda user: "Bearer not-a-jwt",
    "wrong-scheme": lambda user: f"Token {AccessToken.for_user(user)}",
}


@pytest.mark.parametrize("url", PROTECTED_URLS)
def test_protected_endpoints_without_token_are_401(
    api_client: APIClient, db: None, url: str
) -> None:
    response = api_client.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", sorted(BAD_CREDENTIALS))
@pytest.mark.parametrize("url", PROTECTED_URLS)
def test_protected_endpoints_reject_bad_tokens(
    api_client: APIClient, user: AbstractBaseUser, url: str, kind: str
) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=BAD_CREDENTIALS[kind](user))

    response = api_client.get(url)

    assert response.status_code == 401


def test_token_of_deleted_or_inactive_user_is_401(
    user: AbstractBaseUser, other_user: AbstractBaseUser, client_for: ClientFactory
) -> None:
    deleted_client = client_for(user)
    inactive_client = client_for(other_user)
    user.delete()
    other_user.is_active = False
    other_user.save()

    assert deleted_client.get("/api/me/").status_code == 401
    assert inactive_client.get("/api/me/").status_code == 401


def test_me_returns_the_token_owner(
    user: AbstractBaseUser, other_user: AbstractBaseUser, client_for: ClientFactory
) -> None:
    assert client_for(user).get("/api/me/").json() == {"id": user.pk, "username": "alice"}
    assert client_for(other_user).get("/api/me/").json() == {
        "id": other_user.pk,
        "username": "bob",
    }


def test_refresh_of_a_deleted_user_is_401_not_500(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert response.status_code == 401


def test_a_refresh_token_verified_twice_rotates_only_once(user: AbstractBaseUser) -> None:
    """Two requests that both passed simplejwt's blacklist check (both decoded the token
    before either rotated it), as concurrent requests do: the second must lose."""
    raw = str(RefreshToken.for_user(user))
    first, second = RefreshToken(raw), RefreshToken(raw)
    used_jti = first["jti"]
    outstanding_before = OutstandingToken.objects.count()

    rotated = rotate(first, user)
    with pytest.raises(TokenAlreadyUsed):
        rotate(second, user)

    assert set(rotated) == {"access", "refresh"}
    assert OutstandingToken.objects.count() == outstanding_before + 1  # the loser left nothing
    assert BlacklistedToken.objects.filter(token__jti=used_jti).count() == 1


AUDIENCE = settings.SIMPLE_JWT["AUDIENCE"]
ISSUER = settings.SIMPLE_JWT["ISSUER"]
SIGNING_KEY = settings.SIMPLE_JWT["SIGNING_KEY"]
CLAIM_CHANGES = {
    "wrong audience": {"aud": "some-other-api"},
    "no audience": {"aud": None},
    "wrong issuer": {"iss": "https://evil.example"},
    "no issuer": {"iss": None},
}


def signed(payload: dict[str, Any], **changes: str | None) -> str:
    """A token signed with the app's own key (so only the claims can make it fail), built
    with PyJWT rather than simplejwt, which always adds the configured aud and iss."""
    claims = {**payload, "aud": AUDIENCE, "iss": ISSUER}
    for name, value in changes.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


def test_issued_tokens_carry_audience_and_issuer(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    tokens = obtain(api_client, "alice", PASSWORD)

    for token in tokens.values():
        claims = jwt.decode(token, SIGNING_KEY, algorithms=["HS256"], audience=AUDIENCE)
        assert (claims["aud"], claims["iss"]) == (AUDIENCE, ISSUER)


def test_a_token_with_the_right_audience_and_issuer_is_accepted(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {signed(AccessToken.for_user(user).payload)}"
    )

    assert api_client.get("/api/me/").status_code == 200


@pytest.mark.parametrize("kind", sorted(CLAIM_CHANGES))
def test_access_token_with_wrong_or_missing_audience_or_issuer_is_401(
    api_client: APIClient, user: AbstractBaseUser, kind: str
) -> None:
    token = signed(AccessToken.for_user(user).payload, **CLAIM_CHANGES[kind])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert api_client.get("/api/me/").status_code == 401


@pytest.mark.parametrize("kind", sorted(CLAIM_CHANGES))
def test_refresh_token_with_wrong_or_missing_audience_or_issuer_is_401(
    api_client: APIClient, user: AbstractBaseUser, kind: str
) -> None:
    token = signed(RefreshToken.for_user(user).payload, **CLAIM_CHANGES[kind])

    response = api_client.post(REFRESH_URL, {"refresh": token}, format="json")

    assert response.status_code == 401
