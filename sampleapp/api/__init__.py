"""The sample API: JWT-protected per-user items plus synthetic slow and CPU-bound endpoints."""
