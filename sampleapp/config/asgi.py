"""ASGI entry point (``config.asgi:application``) for Daphne, Uvicorn and friends.

DRF views are synchronous, so Django runs them in a thread executor under ASGI. Django reads a
request's whole body before any middleware runs, so the body-size limit wraps the application
itself (config.body_limit).
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from config.body_limit import AsgiBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = AsgiBodyLimit(get_asgi_application(), settings.MAX_REQUEST_BODY_BYTES)
