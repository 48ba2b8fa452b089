"""Small helpers shared by the sample app's tests."""

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "correct-horse-battery"
SAMPLEAPP_DIR = Path(__file__).resolve().parents[2] / "sampleapp"

# Everything that could change how the app configures itself in a child process.
APP_ENV_VARS = (
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "JWT_ACCESS_LIFETIME_S",
    "JWT_REFRESH_LIFETIME_S",
    "REQUEST_COUNTS_DIR",
    "JWT_SIGNING_KEY",
    "JWT_AUDIENCE",
    "JWT_ISSUER",
    "LOGIN_THROTTLE_USER_RATE",
    "LOGIN_THROTTLE_ADDRESS_RATE",
    "TRUSTED_PROXY_COUNT",
    "MAX_REQUEST_BODY_BYTES",
)


def tamper(token: str) -> str:
    """Change one character in the middle of a JWT's signature (every bit of it counts)."""
    header, payload, signature = token.split(".")
    position = len(signature) // 2
    replacement = "A" if signature[position] != "A" else "B"
    signature = signature[:position] + replacement + signature[position + 1 :]
    return f"{header}.{payload}.{signature}"


def run_in_sampleapp(
    args: list[str], env: dict[str, str], timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` in sampleapp/ with exactly the app variables given in ``env``.

    The test process's own settings (DJANGO_SETTINGS_MODULE points at the test settings)
    must not leak in: the child should see what a server started from a shell would see.
    """
    child_env = {k: v for k, v in os.environ.items() if k not in APP_ENV_VARS}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=SAMPLEAPP_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
