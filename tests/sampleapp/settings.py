"""Test settings: the real project settings, loaded under a pinned environment.

The variables that change behaviour (database, token lifetimes, DEBUG, hosts) are pinned only
while ``config.settings`` is imported, so a developer's shell cannot change what the tests
see, and nothing but SECRET_KEY leaks into the environment of the test process.
"""

import os
from unittest import mock

# Test-only key, never used outside this suite. Long enough for HS256 and check --deploy.
os.environ.setdefault(
    "SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789-abcdefghijklmnop"
)

# The suite runs on SQLite in memory; tests/sampleapp/test_on_postgres.py runs it again on
# the harness's own PostgreSQL by naming that cluster here (a test-only variable).
TEST_DATABASE_ENV = "SAMPLEAPP_TEST_DATABASE_URL"

_PINNED_ENV = {
    "DATABASE_URL": os.environ.get(TEST_DATABASE_ENV) or "sqlite://:memory:",
    "DEBUG": "",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "JWT_ACCESS_LIFETIME_S": "300",
    "JWT_REFRESH_LIFETIME_S": "86400",
    "REQUEST_COUNTS_DIR": "",
    # Empty means the app's defaults: the suite sees the production limits and audience.
    "JWT_SIGNING_KEY": "",
    "JWT_AUDIENCE": "",
    "JWT_ISSUER": "",
    "LOGIN_THROTTLE_USER_RATE": "",
    "LOGIN_THROTTLE_ADDRESS_RATE": "",
    "TRUSTED_PROXY_COUNT": "",
    "MAX_REQUEST_BODY_BYTES": "",
}

with mock.patch.dict(os.environ, _PINNED_ENV):
    from config.settings import *  # noqa: F403

# PBKDF2 at a million iterations would make every login in the suite cost half a second.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
