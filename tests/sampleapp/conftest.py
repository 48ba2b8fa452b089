"""Shared fixtures: users, JWTs and API clients for the sample app's tests."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.sampleapp.helpers import PASSWORD

# The real-server fixtures, for test_security_over_http.py (pytest finds fixtures by name in
# a conftest's namespace; tests/servers/conftest.py only serves tests/servers/ by itself).
from tests.servers.conftest import app_settings, launched, template_database  # noqa: F401

ClientFactory = Callable[[AbstractBaseUser], APIClient]


@pytest.fixture
def api_client() -> APIClient:
    """A client with no credentials."""
    return APIClient()


@pytest.fixture
def user(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> AbstractBaseUser:
    return get_user_model().objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def client_for() -> ClientFactory:
    """Build a client that sends a valid access token for the given user."""

    def build(owner: AbstractBaseUser) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(owner)}")
        return client

    return build


@pytest.fixture
def auth_client(user: AbstractBaseUser, client_for: ClientFactory) -> APIClient:
    return client_for(user)
