"""Readiness of a remote target: /healthz answering 200 before a deadline, TLS verified.

A local server's readiness also proves the listener is its own; a remote one can only be
asked. A connection refused or reset is waited out (the deployment may be restarting), but
a certificate that does not verify, or a TLS handshake that fails, will not change by
waiting: it ends the run at once, named in one line with what to do about it.
"""

from __future__ import annotations

import ssl
import time
import urllib.error

from scripts.harness.session import SessionFailedError
from scripts.harness.target import RemoteTarget
from servers.http import request_json
from servers.supervisor import HEALTH_PATH

READY_DEADLINE_S = 30.0
POLL_INTERVAL_S = 0.5


class TargetNotReadyError(SessionFailedError):
    """The target did not answer /healthz, or its TLS cannot be trusted; the message is
    the run's reason."""


def tls_problem(target: RemoteTarget, error: BaseException) -> str | None:
    """One line naming a TLS failure in `error` (urllib wraps it in URLError), or None
    when the failure is not TLS's."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    where = f"{target.url.netloc}"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {where} not verified against {target.trusted}: "
            f"{reason.verify_message} (give the CA that signed it with TARGET_CA=<file>)"
        )
    if isinstance(reason, ssl.SSLError):
        return f"TLS handshake with {where} failed: {reason.reason or reason}"
    return None


def wait_ready(target: RemoteTarget, deadline_s: float = READY_DEADLINE_S) -> float:
    """Seconds until /healthz answered 200 with {"status": "ok"}; TargetNotReadyError when
    it did not before the deadline, at once for a TLS failure."""
    started = time.monotonic()
    context = target.tls_context()
    last = "no answer yet"
    while True:
        try:
            answer = request_json(
                "GET", target.url.base_url + HEALTH_PATH, timeout_s=2.0, tls=context
            )
        except OSError as error:
            problem = tls_problem(target, error)
            if problem:
                raise TargetNotReadyError(problem) from None
            last = str(getattr(error, "reason", error))
        else:
            body = answer.body
            if answer.status == 200 and isinstance(body, dict) and body.get("status") == "ok":
                return time.monotonic() - started
            last = f"status {answer.status}"
        if time.monotonic() - started > deadline_s:
            raise TargetNotReadyError(
                f"the target {target.url.base_url} did not answer 200 on {HEALTH_PATH} "
                f"within {deadline_s:.0f} s ({last})"
            )
        time.sleep(POLL_INTERVAL_S)


def answering(target: RemoteTarget) -> bool:
    """Whether the target still answers /healthz (after the load: a dead deployment fails
    the run, as a local server that stopped accepting does)."""
    try:
        answer = request_json(
            "GET", target.url.base_url + HEALTH_PATH, timeout_s=5.0, tls=target.tls_context()
        )
    except OSError:
        return False
    return answer.status == 200
