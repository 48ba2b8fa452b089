"""/api/slow-async/: a plain Django async view with the same token rules as the DRF views
and the same bounds as /api/slow/; its waits overlap in one event loop."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AbstractBaseUser
from django.http.response import HttpResponseBase
from django.test import AsyncClient
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db(transaction=True)


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_waits_and_answers(user: AbstractBaseUser) -> None:
    headers = _bearer(AccessToken.for_user(user))
    response = async_to_sync(AsyncClient().get)("/api/slow-async/", {"ms": 5}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"slept_ms": 5}


def test_waits_overlap_in_one_event_loop(user: AbstractBaseUser) -> None:
    client, headers = AsyncClient(), _bearer(AccessToken.for_user(user))

    async def ten_at_once() -> list[HttpResponseBase]:
        await client.get("/api/slow-async/", {"ms": 0}, headers=headers)  # warm the URLconf
        return list(
            await asyncio.gather(
                *(client.get("/api/slow-async/", {"ms": 200}, headers=headers) for _ in range(10))
            )
        )

    started = time.monotonic()
    answers = async_to_sync(ten_at_once)()
    elapsed_s = time.monotonic() - started
    assert [answer.status_code for answer in answers] == [200] * 10
    assert elapsed_s < 1.0, f"10 waits of 200 ms took {elapsed_s:.2f} s: they did not overlap"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}],
)
def test_without_a_valid_access_token_it_is_401(
    api_client: APIClient, headers: dict[str, str]
) -> None:
    response = api_client.get("/api/slow-async/", headers=headers)
    assert response.status_code == 401


def test_a_refresh_token_is_not_an_access_token(
    api_client: APIClient, user: AbstractBaseUser
) -> None:
    response = api_client.get("/api/slow-async/", headers=_bearer(RefreshToken.for_user(user)))
    assert response.status_code == 401


def test_an_inactive_user_is_401(api_client: APIClient, user: AbstractBaseUser) -> None:
    token = AccessToken.for_user(user)
    user.is_active = False
    user.save()
    assert api_client.get("/api/slow-async/", headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize("ms", ["-1", "2001", "abc"])
def test_out_of_bounds_waits_are_400(
    api_client: APIClient, user: AbstractBaseUser, ms: str
) -> None:
    headers = _bearer(AccessToken.for_user(user))
    assert api_client.get("/api/slow-async/", {"ms": ms}, headers=headers).status_code == 400
