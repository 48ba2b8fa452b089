"""Throttles for the token endpoints: per client address and per account, in a shared cache.

A login costs a PBKDF2 hash (about half a CPU-second): without a limit anyone can burn a CPU
per request and guess passwords as fast as the server hashes. Two limits, because each alone
is easy to dodge: per address stops one client trying many accounts, per account stops many
addresses (a botnet) trying one account.

The counts live in the "throttle" cache (a DatabaseCache, see settings.CACHES), shared by every
worker process. DRF's read-modify-write of a count is not atomic, so a burst of concurrent
requests can slip a few over the rate (at most about one per request in flight); the limit
still holds over any longer stretch.
"""

import hashlib
import math
import unicodedata
from typing import Protocol

from django.core.cache import BaseCache, caches
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

CACHE_ALIAS = "throttle"


class AccountIdentified(Protocol):
    """A view that can say which account a request is about, before authenticating it."""

    def throttle_account(self, request: Request) -> str | None: ...


def _digest(ident: str) -> str:
    """A fixed-length, cache-safe key part (usernames may hold any character, any length)."""
    return hashlib.sha256(ident.encode()).hexdigest()


def normalized_username(raw: str) -> str:
    """One bucket for every spelling of a name that Unicode or case folding makes equal."""
    return unicodedata.normalize("NFKC", raw).casefold()


class _TokenEndpointThrottle(SimpleRateThrottle):
    """Common behaviour: rates read when the throttle is made (not frozen at import, as
    DRF's class attribute is), the shared cache, and a Retry-After on every 429."""

    @property  # type: ignore[override]
    def cache(self) -> BaseCache:
        return caches[CACHE_ALIAS]

    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES
        return rates[str(self.scope)]

    def wait(self) -> float:
        """Seconds until a request is allowed again; at least 1 so Retry-After is never
        missing (DRF leaves the header out when the wait is None or 0)."""
        remaining_s = super().wait()
        if remaining_s is None:
            remaining_s = float(self.duration or 1)
        return float(max(1, math.ceil(remaining_s)))

    def ident_for(self, request: Request, view: APIView) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.ident_for(request, view)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": _digest(ident)}


class LoginAddressRateThrottle(_TokenEndpointThrottle):
    """Counts every token request from one client address (REMOTE_ADDR, or X-Forwarded-For
    only as far as TRUSTED_PROXY_COUNT proxies vouch for it)."""

    scope = "login_address"

    def ident_for(self, request: Request, view: APIView) -> str | None:
        address = self.get_ident(request)
        return f"address:{address}" if address else None


class LoginAccountRateThrottle(_TokenEndpointThrottle):
    """Counts every token request for one account, whichever address it comes from; the view
    names the account (`throttle_account`); requests that name none count per address only."""

    scope = "login_user"

    def ident_for(self, request: Request, view: APIView) -> str | None:
        identified: AccountIdentified = view  # type: ignore[assignment]
        return identified.throttle_account(request)


TOKEN_ENDPOINT_THROTTLES = (LoginAddressRateThrottle, LoginAccountRateThrottle)
