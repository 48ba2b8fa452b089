"""The server fixtures of tests/servers, for the locustfile's integration test."""

from tests.servers.conftest import app_settings, launched, template_database

__all__ = ["app_settings", "launched", "template_database"]
