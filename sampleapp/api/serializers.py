"""Serializers for item bodies, the query parameters of the synthetic endpoints, and the
refresh-token rotation.

Query parameters go through serializers too, so bad input gets the same 400 shape
(``{"field": ["message"]}``) as a bad request body.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

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


class TokenAlreadyUsed(TokenError):
    """Another request rotated this refresh token first."""


def blacklist_once(refresh: RefreshToken, user: AbstractBaseUser | None) -> None:
    """Blacklist `refresh`, or raise TokenAlreadyUsed if it already is, atomically.

    simplejwt checks the blacklist when it decodes the token and writes it later with
    get_or_create, which quietly returns the row a concurrent request has just written: two
    refreshes of one token can both succeed. Here the plain INSERT is the check: the blacklist's
    one-to-one column is unique, so of any number of concurrent inserts for one token the
    database lets exactly one through (PostgreSQL makes the others wait for it and then fail;
    SQLite runs them one after another) and the rest get IntegrityError.
    """
    outstanding, _ = OutstandingToken.objects.get_or_create(
        jti=refresh[jwt_settings.JTI_CLAIM],
        defaults={
            "user": user,
            "created_at": refresh.current_time,
            "token": str(refresh),
            "expires_at": datetime_from_epoch(refresh["exp"]),
        },
    )
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise TokenAlreadyUsed("Token is blacklisted") from None


def rotate(refresh: RefreshToken, user: AbstractBaseUser | None) -> dict[str, str]:
    """A new access token and a new refresh token for a verified `refresh`, which is used up.

    One transaction: the old token is blacklisted and the new one recorded together, so a
    failure half-way leaves the old token usable instead of neither.
    """
    with transaction.atomic():
        blacklist_once(refresh, user)
        access = str(refresh.access_token)
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        refresh.outstand()
    return {"access": access, "refresh": str(refresh)}


class RotatingRefreshSerializer(serializers.Serializer):
    """``POST /api/auth/token/refresh/``: a refresh token in, a new pair out, the old one used up.

    Replaces simplejwt's TokenRefreshSerializer, whose rotation is not atomic (see
    `blacklist_once`) and which answers 500 when the token's user has been deleted.
    """

    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = RefreshToken(attrs["refresh"])
        user = _token_user(refresh)
        return rotate(refresh, user)


def _token_user(refresh: RefreshToken) -> AbstractBaseUser:
    """The active user a refresh token belongs to; 401 if gone or deactivated."""
    user_id = refresh.get(jwt_settings.USER_ID_CLAIM)
    user = (
        get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user_id is not None
        else None
    )
    if user is None or not jwt_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed(
            "No active account found for the given token.", "no_active_account"
        )
    return user
