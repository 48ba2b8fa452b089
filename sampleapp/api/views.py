"""API views: synchronous DRF views, like most real DRF code bases, plus a plain health probe.

Authentication and permissions come from settings (JWT + IsAuthenticated); only the health
check and the token endpoints opt out, because servers and the harness probe the first before
any user exists, and the others are how a user gets a token. The token endpoints are throttled
instead (api.throttles).
"""

import logging
import time
from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.views import TokenObtainPairView, TokenViewBase

from .models import Item
from .primes import count_primes_below
from .serializers import (
    ComputeQuerySerializer,
    ItemSerializer,
    RotatingRefreshSerializer,
    SlowQuerySerializer,
)
from .throttles import TOKEN_ENDPOINT_THROTTLES, normalized_username

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness probe: 200 only once the app is loaded *and* the database answers.

    A plain Django view (no DRF, no JWT) so that it stays cheap and needs no user. An open
    port alone is not readiness; a round trip through the real connection is. Anyone can call
    it, so a failure says only that the database is unavailable: the driver's message (paths,
    host names, user names) goes to the server log.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("healthz: database check failed: %s: %s", type(exc).__name__, exc)
        return JsonResponse({"status": "error", "detail": "Database unavailable."}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


class ThrottledTokenObtainView(TokenObtainPairView):
    """``POST /api/auth/token/``: simplejwt's login, throttled per address and per username."""

    throttle_classes = TOKEN_ENDPOINT_THROTTLES

    def throttle_account(self, request: Request) -> str | None:
        """The username the client is trying, as sent (before any password check)."""
        data = request.data
        username = data.get(get_user_model().USERNAME_FIELD) if isinstance(data, Mapping) else None
        if not isinstance(username, str) or not username:
            return None
        return f"username:{normalized_username(username)}"


class AtomicTokenRefreshView(TokenViewBase):
    """``POST /api/auth/token/refresh/``: rotation where one refresh token yields one new pair,
    however many requests race with it; throttled per address and per account."""

    serializer_class = RotatingRefreshSerializer
    throttle_classes = TOKEN_ENDPOINT_THROTTLES

    def throttle_account(self, request: Request) -> str | None:
        """The user of a correctly signed refresh token. A forged or foreign token names no
        account, so nobody can use up another user's allowance with made-up tokens."""
        data = request.data
        raw = data.get("refresh") if isinstance(data, Mapping) else None
        if not isinstance(raw, str) or not raw:
            return None
        try:
            payload = token_backend.decode(raw, verify=True)
        except TokenBackendError:
            return None
        user_id = payload.get(jwt_settings.USER_ID_CLAIM)
        return None if user_id is None else f"user-id:{user_id}"


class MeView(APIView):
    """Who the token belongs to: the cheapest authenticated endpoint (one user query)."""

    def get(self, request: Request) -> Response:
        return Response({"id": request.user.pk, "username": request.user.get_username()})


class OwnedItemsMixin:
    """Restrict every item query to the caller, so other users' items simply do not exist."""

    request: Request

    def get_queryset(self) -> QuerySet[Item]:
        return Item.objects.filter(owner=self.request.user).order_by("id")


class ItemListCreateView(OwnedItemsMixin, generics.ListCreateAPIView):
    """``GET`` a page of the caller's items; ``POST`` a new one owned by the caller."""

    serializer_class = ItemSerializer

    def perform_create(self, serializer: ItemSerializer) -> None:
        serializer.save(owner=self.request.user)


class ItemDetailView(OwnedItemsMixin, generics.RetrieveUpdateDestroyAPIView):
    """Read, update or delete one of the caller's items; anyone else's is a 404."""

    serializer_class = ItemSerializer


class SlowView(APIView):
    """Stands in for a call to a slow upstream service: the worker waits without using CPU.

    ``time.sleep`` releases the GIL, so this is where threads and async servers can shine.
    """

    def get(self, request: Request) -> Response:
        params = SlowQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        slept_ms: int = params.validated_data["ms"]
        time.sleep(slept_ms / 1000)
        return Response({"slept_ms": slept_ms})


class ComputeView(APIView):
    """CPU-bound work that holds the GIL: only more processes make it go faster."""

    def get(self, request: Request) -> Response:
        params = ComputeQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        n: int = params.validated_data["n"]
        return Response({"n": n, "primes": count_primes_below(n)})
