"""Data model: a to-do style item owned by one user, enough to exercise reads and writes."""

from django.conf import settings
from django.db import models


class Item(models.Model):
    """One user's item; every API query is filtered by ``owner``."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="items"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.title
