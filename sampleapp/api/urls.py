"""URL routes of the API, mounted under ``/api/`` by ``config.urls``."""

from django.urls import path
from rest_framework_simplejwt.views import TokenVerifyView

from . import async_views, views

urlpatterns = [
    path("auth/token/", views.ThrottledTokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.AtomicTokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", TokenVerifyView.as_view(), name="token-verify"),
    path("me/", views.MeView.as_view(), name="me"),
    path("items/", views.ItemListCreateView.as_view(), name="item-list"),
    path("items/<int:pk>/", views.ItemDetailView.as_view(), name="item-detail"),
    path("slow/", views.SlowView.as_view(), name="slow"),
    path("slow-async/", async_views.slow_async, name="slow-async"),
    path("compute/", views.ComputeView.as_view(), name="compute"),
]
