"""The synthetic workloads: /api/slow/ (waiting) and /api/compute/ (CPU), and their bounds."""

import time
from collections.abc import Iterator
from unittest import mock

import pytest
from rest_framework.test import APIClient

from api.primes import count_primes_below


@pytest.fixture
def fake_sleep() -> Iterator[mock.MagicMock]:
    """Record the requested sleep instead of waiting for it."""
    with mock.patch("api.views.time.sleep") as sleep:
        yield sleep


@pytest.mark.parametrize(("ms", "seconds"), [(0, 0.0), (1, 0.001), (2000, 2.0)])
def test_slow_accepts_the_bounds(
    auth_client: APIClient, fake_sleep: mock.MagicMock, ms: int, seconds: float
) -> None:
    response = auth_client.get("/api/slow/", {"ms": ms})

    assert response.status_code == 200
    assert response.json() == {"slept_ms": ms}
    fake_sleep.assert_called_once_with(seconds)


def test_slow_defaults_to_100_ms(auth_client: APIClient, fake_sleep: mock.MagicMock) -> None:
    response = auth_client.get("/api/slow/")

    assert response.json() == {"slept_ms": 100}
    fake_sleep.assert_called_once_with(0.1)


def test_slow_really_sleeps(auth_client: APIClient) -> None:
    with mock.patch("api.views.time.sleep", wraps=time.sleep) as sleep:
        response = auth_client.get("/api/slow/", {"ms": 5})

    assert response.json() == {"slept_ms": 5}
    sleep.assert_called_once_with(0.005)


@pytest.mark.parametrize("ms", ["-1", "2001", "abc", "1.5", "99999999999999999999"])
def test_slow_rejects_out_of_range_or_non_integer(
    auth_client: APIClient, fake_sleep: mock.MagicMock, ms: str
) -> None:
    response = auth_client.get("/api/slow/", {"ms": ms})

    assert response.status_code == 400
    assert set(response.json()) == {"ms"}
    assert isinstance(response.json()["ms"], list)
    fake_sleep.assert_not_called()


@pytest.mark.parametrize(("n", "primes"), [(1, 0), (2, 0), (3, 1), (100, 25), (200_000, 17984)])
def test_compute_counts_primes_below_n(auth_client: APIClient, n: int, primes: int) -> None:
    response = auth_client.get("/api/compute/", {"n": n})

    assert response.status_code == 200
    assert response.json() == {"n": n, "primes": primes}


def test_compute_defaults_to_20000(auth_client: APIClient) -> None:
    assert auth_client.get("/api/compute/").json() == {"n": 20000, "primes": 2262}


@pytest.mark.parametrize("n", ["0", "-5", "200001", "abc"])
def test_compute_rejects_out_of_range_or_non_integer(auth_client: APIClient, n: str) -> None:
    response = auth_client.get("/api/compute/", {"n": n})

    assert response.status_code == 400
    assert set(response.json()) == {"n"}


def naive_prime_count(n: int) -> int:
    return sum(1 for k in range(2, n) if all(k % d for d in range(2, k)))


def test_count_primes_below_matches_a_naive_count() -> None:
    for n in range(0, 400):
        assert count_primes_below(n) == naive_prime_count(n), n
