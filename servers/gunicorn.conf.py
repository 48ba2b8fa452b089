"""Gunicorn's production settings for the sample app.

The harness passes --bind, --workers and --threads on the command line (so meta.json records
them), and --worker-class for the gunicorn-* servers of the registry (the command line wins
over this file); everything else lives here, shared by every worker class. Run by hand with:
    cd sampleapp && gunicorn -c ../servers/gunicorn.conf.py config.wsgi:application
"""

import os

workers = len(os.sched_getaffinity(0))
worker_class = "sync"  # gunicorn switches to gthread by itself when --threads > 1
timeout = 30
graceful_timeout = 10  # on TERM, in-flight requests get this long before workers are killed
keepalive = 5  # gthread, gevent and the ASGI workers keep connections alive; sync closes each
max_requests = 0  # no recycling: a benchmark must not measure worker restarts
accesslog = None  # one line per request costs CPU that the comparison should not count
errorlog = "-"
loglevel = "warning"
limit_request_line = 4094
limit_request_field_size = 8190
limit_request_fields = 100
# Gunicorn has no request-body cap (only the three header limits above). The app's WSGI entry
# point (config.wsgi) answers 413 from Content-Length before anything reads the body, and
# Gunicorn reads a body only as the app asks for it; a chunked body is never read by Django.
preload_app = False
