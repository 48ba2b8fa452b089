"""ASGI entry point (``config.asgi:application``) for Daphne, Uvicorn and friends.

DRF views are synchronous, so Django runs them in a thread executor under ASGI.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
