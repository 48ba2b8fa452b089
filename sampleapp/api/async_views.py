"""A plain Django async view: what an ASGI server can do that a sync DRF view cannot.

DRF has no async views (its JWTAuthentication is sync and would raise
SynchronousOnlyOperation), so `/api/slow-async/` does by hand what a DRF view with
JWTAuthentication does for /api/slow/: validate the bearer token (simplejwt's token classes
check signature, expiry, audience and issuer without the database), fetch the user with one
async query, then wait without a thread (`asyncio.sleep`). Under an ASGI server the wait
holds no worker and no thread; under a WSGI server Django runs it in an event loop of its
own per request, the same as a sync view would have been.
"""

from __future__ import annotations

import asyncio

from django.contrib.auth import get_user_model
from django.http import HttpRequest, JsonResponse
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from .serializers import SLOW_MS_MAX

UNAUTHORIZED = {"detail": "Authentication credentials were not provided or are not valid."}


def _wait_ms(request: HttpRequest) -> int | None:
    """?ms=N as /api/slow/ takes it (0..SLOW_MS_MAX, default 100), None when invalid."""
    raw = request.GET.get("ms", "100")
    if not raw.isdigit() or int(raw) > SLOW_MS_MAX:
        return None
    return int(raw)


async def slow_async(request: HttpRequest) -> JsonResponse:
    """GET /api/slow-async/?ms=N: the token check, one async user query, an async wait."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    scheme, _, raw_token = request.headers.get("Authorization", "").partition(" ")
    if scheme not in api_settings.AUTH_HEADER_TYPES or not raw_token:
        return JsonResponse(UNAUTHORIZED, status=401)
    try:
        token = AccessToken(raw_token.strip())
    except TokenError:
        return JsonResponse(UNAUTHORIZED, status=401)
    lookup = {api_settings.USER_ID_FIELD: token.get(api_settings.USER_ID_CLAIM)}
    user = await get_user_model().objects.filter(is_active=True, **lookup).afirst()
    if user is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    slept_ms = _wait_ms(request)
    if slept_ms is None:
        return JsonResponse({"ms": [f"expected 0..{SLOW_MS_MAX}"]}, status=400)
    await asyncio.sleep(slept_ms / 1000)
    return JsonResponse({"slept_ms": slept_ms})
