"""API views: synchronous DRF views, like most real DRF code bases, plus a plain health probe.

Authentication and permissions come from settings (JWT + IsAuthenticated); only the health
check opts out, because servers and the harness probe it before any user exists.
"""

import time

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Item
from .primes import count_primes_below
from .serializers import ComputeQuerySerializer, ItemSerializer, SlowQuerySerializer


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Readiness probe: 200 only once the app is loaded *and* the database answers.

    A plain Django view (no DRF, no JWT) so that it stays cheap and needs no user. An open
    port alone is not readiness; a round trip through the real connection is.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse({"status": "error", "detail": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


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
