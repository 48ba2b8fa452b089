"""Request counters: the app's per-process count files, read back by the harness's reader.

The writer (api.counters) and the reader (servers.request_counts) implement the format
independently; these tests are where they must agree.
"""

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.test import AsyncClient, override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.counters import KEY_BYTES, SLOT_COUNT, CounterFile, ProcessCounter, encode_key
from servers.request_counts import (
    RequestCountsFormatError,
    RequestKey,
    read_process_counts,
    read_request_counts,
)
from tests.sampleapp.test_settings import load_settings

COUNTER = "api.counters.RequestCountsMiddleware"
ME = "/api/me/"


@pytest.fixture
def counts_dir(tmp_path: Path) -> Iterator[Path]:
    """The counting middleware enabled, first in the chain, writing into a fresh directory."""
    directory = tmp_path / "counts"
    with override_settings(
        MIDDLEWARE=[COUNTER, *settings.MIDDLEWARE], REQUEST_COUNTS_DIR=directory
    ):
        yield directory


def bearer(user: AbstractBaseUser) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


def test_every_answer_is_counted_by_method_route_and_status(
    counts_dir: Path, user: AbstractBaseUser
) -> None:
    client = APIClient()
    for _ in range(5):
        assert client.get(ME, HTTP_AUTHORIZATION=bearer(user)).status_code == 200
    for _ in range(3):
        assert client.get(ME).status_code == 401
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/items/7/", HTTP_AUTHORIZATION=bearer(user)).status_code == 404
    assert client.get("/healthz").status_code == 200
    assert client.generic("BREW", ME, HTTP_AUTHORIZATION=bearer(user)).status_code == 405

    counts = read_request_counts(counts_dir)

    assert dict(counts.counts) == {
        RequestKey("GET", ME, 200): 5,
        RequestKey("GET", ME, 401): 3,
        RequestKey("GET", "<unmatched>", 404): 1,
        RequestKey("GET", "/api/items/<int:pk>/", 404): 1,
        RequestKey("GET", "/healthz", 200): 1,
        RequestKey("OTHER", ME, 405): 1,
    }
    assert counts.pids == {os.getpid()}
    assert counts.total == 12
    assert counts.count(route=ME) == 9
    assert counts.overflow == 0


def test_a_server_error_is_counted(counts_dir: Path, user: AbstractBaseUser) -> None:
    client = APIClient(raise_request_exception=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("api.views.MeView.get", lambda *args: 1 / 0)
        response = client.get(ME, HTTP_AUTHORIZATION=bearer(user))

    assert response.status_code == 500
    assert read_request_counts(counts_dir).counts == {RequestKey("GET", ME, 500): 1}


def test_counts_are_visible_while_the_process_keeps_serving(
    counts_dir: Path, user: AbstractBaseUser
) -> None:
    client = APIClient()
    client.get(ME, HTTP_AUTHORIZATION=bearer(user))
    first = read_request_counts(counts_dir)
    client.get(ME, HTTP_AUTHORIZATION=bearer(user))
    client.get(ME)
    second = read_request_counts(counts_dir)

    assert first.count(route=ME) == 1
    assert dict(second.minus(first)) == {
        RequestKey("GET", ME, 200): 1,
        RequestKey("GET", ME, 401): 1,
    }
    assert second.new_pids(first) == frozenset()


def test_the_async_handler_counts_too(counts_dir: Path, user: AbstractBaseUser) -> None:
    client = AsyncClient()

    async def two_requests() -> tuple[int, int]:
        good = await client.get(ME, headers={"authorization": bearer(user)})
        bad = await client.get(ME)
        return good.status_code, bad.status_code

    assert async_to_sync(two_requests)() == (200, 401)
    assert read_request_counts(counts_dir).counts == {
        RequestKey("GET", ME, 200): 1,
        RequestKey("GET", ME, 401): 1,
    }


def test_without_the_setting_nothing_is_counted(tmp_path: Path, user: AbstractBaseUser) -> None:
    with override_settings(MIDDLEWARE=[COUNTER, *settings.MIDDLEWARE], REQUEST_COUNTS_DIR=None):
        response = APIClient().get(ME, HTTP_AUTHORIZATION=bearer(user))

    assert response.status_code == 200
    assert list(tmp_path.iterdir()) == []


def test_the_environment_variable_puts_the_middleware_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REQUEST_COUNTS_DIR", raising=False)
    assert COUNTER not in load_settings(monkeypatch).MIDDLEWARE

    enabled = load_settings(monkeypatch, REQUEST_COUNTS_DIR=str(tmp_path))

    assert enabled.MIDDLEWARE[0] == COUNTER
    assert Path(enabled.REQUEST_COUNTS_DIR) == tmp_path


def test_a_forked_child_counts_in_its_own_file(tmp_path: Path) -> None:
    counter = ProcessCounter(tmp_path)
    counter.add(("GET", ME, 200))

    child = os.fork()
    if child == 0:  # the child: count, then leave at once (no pytest teardown here)
        try:
            for _ in range(3):
                counter.add(("GET", ME, 200))
        finally:
            os._exit(0)
    _, status = os.waitpid(child, 0)
    counter.add(("GET", ME, 200))

    assert os.waitstatus_to_exitcode(status) == 0
    by_pid = {process.pid: process.counts for process in read_request_counts(tmp_path).processes}
    assert by_pid == {
        os.getpid(): {RequestKey("GET", ME, 200): 2},
        child: {RequestKey("GET", ME, 200): 3},
    }


def count_from_threads(counter_file: CounterFile, threads_n: int, keys_per_thread: int) -> None:
    """Each thread adds its own keys, all new at once, twice over (claim, then increment)."""

    def count_own_keys(thread_index: int) -> None:
        first = thread_index * keys_per_thread
        for _ in range(2):
            for status in range(first, first + keys_per_thread):
                counter_file.add(("GET", ME, status))

    workers = [threading.Thread(target=count_own_keys, args=(index,)) for index in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_threads_of_one_process_lose_no_key_and_no_count(tmp_path: Path) -> None:
    threads_n, keys_per_thread, trials = 8, 60, 10
    expected = {RequestKey("GET", ME, status): 2 for status in range(threads_n * keys_per_thread)}
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to provoke races
    try:
        for trial in range(trials):
            counter_file = CounterFile(tmp_path, os.getpid())
            count_from_threads(counter_file, threads_n, keys_per_thread)
            assert read_process_counts(counter_file.path).counts == expected, f"trial {trial}"
    finally:
        sys.setswitchinterval(previous)


def test_a_full_table_counts_the_rest_as_overflow(tmp_path: Path) -> None:
    counter_file = CounterFile(tmp_path, os.getpid())
    for status in range(SLOT_COUNT + 2):
        counter_file.add(("GET", ME, status))

    counts = read_process_counts(counter_file.path)

    assert len(counts.counts) == SLOT_COUNT
    assert counts.overflow == 2
    assert sum(counts.counts.values()) + counts.overflow == SLOT_COUNT + 2


def test_a_long_route_is_cut_to_fit_and_still_parses(tmp_path: Path) -> None:
    route = "/api/" + "é" * 100 + "/"
    assert len(encode_key("DELETE", route, 503)) <= KEY_BYTES
    counter_file = CounterFile(tmp_path, os.getpid())
    counter_file.add(("DELETE", route, 503))

    (key,) = read_process_counts(counter_file.path).counts

    assert (key.method, key.status) == ("DELETE", 503)
    assert route.startswith(key.route)
    assert len(key.route) > 10


def test_the_reader_refuses_a_file_that_is_not_a_counter_file(tmp_path: Path) -> None:
    (tmp_path / "requests-1-1.cnt").write_bytes(b"NOTCOUNT" + bytes(200))

    with pytest.raises(RequestCountsFormatError, match="not a request counter file"):
        read_request_counts(tmp_path)


def test_an_empty_directory_reads_as_no_counts(tmp_path: Path) -> None:
    counts = read_request_counts(tmp_path)

    assert counts.total == 0
    assert counts.pids == frozenset()
