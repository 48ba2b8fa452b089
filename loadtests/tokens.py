"""Reading a JWT's timing claims on the client, to refresh before the server says 401.

The signature is the server's business; the client only needs `exp` and `iat` to know when
its access token runs out, so the payload is decoded without verification.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass


class TokenFormatError(ValueError):
    """The string is not a JWT with a JSON payload carrying `exp`."""


def decode_claims(token: str) -> dict[str, object]:
    """The unverified payload of a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenFormatError("a JWT has three dot-separated parts")
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError as error:
        raise TokenFormatError(f"undecodable JWT payload: {error}") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int | float):
        raise TokenFormatError("JWT payload has no numeric exp claim")
    return claims


@dataclass(frozen=True)
class TokenPair:
    """An access/refresh pair and when the access token should be renewed."""

    access: str
    refresh: str
    access_expires_at: float
    refresh_due_at: float

    @classmethod
    def from_response(cls, access: str, refresh: str) -> TokenPair:
        """Build from the token endpoint's answer. Renewal is due when 80 % of the access
        lifetime has passed (at most 10 s before expiry), so a request never carries a token
        that expires on its way to the server."""
        claims = decode_claims(access)
        expires_at = float(claims["exp"])  # type: ignore[arg-type]
        issued_raw = claims.get("iat")
        issued_at = float(issued_raw) if isinstance(issued_raw, int | float) else time.time()
        lifetime_s = max(expires_at - issued_at, 0.0)
        margin_s = min(10.0, 0.2 * lifetime_s)
        return cls(access, refresh, expires_at, expires_at - margin_s)

    def needs_refresh(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.refresh_due_at
