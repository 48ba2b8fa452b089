"""Root URL configuration: the health probe at ``/healthz`` and the API under ``/api/``."""

from django.urls import include, path

from api.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include("api.urls")),
]

handler400 = "api.errors.bad_request"
handler403 = "api.errors.permission_denied"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
