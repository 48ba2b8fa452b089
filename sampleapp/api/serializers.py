"""Serializers for item bodies and for the query parameters of the synthetic endpoints.

Query parameters go through serializers too, so bad input gets the same 400 shape
(``{"field": ["message"]}``) as a bad request body.
"""

from rest_framework import serializers

from .models import Item

SLOW_MS_MAX = 2000
COMPUTE_N_MAX = 200_000


class ItemSerializer(serializers.ModelSerializer):
    """An item as the API shows it; the owner is implied by the token, never exposed."""

    class Meta:
        model = Item
        fields = ("id", "title", "body", "done", "created_at")
        read_only_fields = ("id", "created_at")


class SlowQuerySerializer(serializers.Serializer):
    """``/api/slow/?ms=N``: how long to wait, bounded so a request cannot hang a worker."""

    ms = serializers.IntegerField(min_value=0, max_value=SLOW_MS_MAX, default=100)


class ComputeQuerySerializer(serializers.Serializer):
    """``/api/compute/?n=N``: the prime-counting limit, bounded to keep one request short."""

    n = serializers.IntegerField(min_value=1, max_value=COMPUTE_N_MAX, default=20_000)
