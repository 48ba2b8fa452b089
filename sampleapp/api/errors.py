"""JSON error pages for requests that never reach a DRF view (unknown URL, bad Host, crash).

Django's defaults are HTML; a JSON API should answer JSON even then, so clients and the load
generator can parse every response the same way.
"""

from django.http import HttpRequest, JsonResponse


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    """400, e.g. a Host header not in ALLOWED_HOSTS."""
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    """403 raised outside DRF."""
    return JsonResponse({"detail": "Permission denied."}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    """404 for a URL that matches no route."""
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    """500; the traceback goes to the server log, never to the client."""
    return JsonResponse({"detail": "Server error."}, status=500)
