"""Django app configuration for the sample API."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Registers the ``api`` app (models, migrations and the ``seed`` command)."""

    name = "api"
    default_auto_field = "django.db.models.BigAutoField"
