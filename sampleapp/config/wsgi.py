"""WSGI entry point (``config.wsgi:application``) for Gunicorn, uWSGI, runserver and friends.

The body-size limit wraps the application (config.body_limit), so an oversized request is
refused from its Content-Length before Django touches ``wsgi.input``.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.body_limit import WsgiBodyLimit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = WsgiBodyLimit(get_wsgi_application(), settings.MAX_REQUEST_BODY_BYTES)
