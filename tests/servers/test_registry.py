from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from scripts.harness.plan import parse_bench_args, plan_from_args
from servers.count_rules import THREAD_RULES, WORKER_RULES
from servers.registry import (
    SERVERS,
    Interface,
    get_server,
    product_server_names,
    server_names,
)

PRODUCT = ["runserver", "gunicorn", "uwsgi", "daphne", "uvicorn"]


def test_the_five_servers_are_registered_in_order() -> None:
    assert server_names()[:5] == PRODUCT


def test_the_product_is_the_five_and_every_server_is_more() -> None:
    assert product_server_names() == PRODUCT
    assert set(server_names()) - set(PRODUCT) == {
        "gunicorn-uvicorn",
        "gunicorn-asgi",
        "gunicorn-gevent",
        "granian-wsgi",
        "granian-asgi",
        "hypercorn",
        "waitress",
        "runserver-nothreading",
    }


@pytest.mark.parametrize("name", list(SERVERS))
def test_every_server_names_real_rules_and_installed_distributions(name: str) -> None:
    spec = SERVERS[name]
    assert spec.auto_workers in WORKER_RULES and spec.auto_threads in THREAD_RULES
    assert spec.threads_supported == (spec.auto_threads != "none")
    for distribution in (spec.version_distribution, *spec.companion_distributions):
        assert metadata.version(distribution)


def test_gunicorn_with_threads_is_gthread_under_one_name() -> None:
    gunicorn = get_server("gunicorn")
    assert gunicorn.label(4) == "gunicorn gthread"
    assert gunicorn.label(1) == gunicorn.label(None) == "gunicorn"
    assert get_server("uwsgi").label(4) == "uwsgi"


def test_worker_classes_are_given_on_gunicorns_command_line() -> None:
    def worker_class(name: str) -> str:
        argv = SERVERS[name].argv_template
        return argv[argv.index("--worker-class") + 1]

    assert worker_class("gunicorn-uvicorn") == "uvicorn_worker.UvicornWorker"
    assert worker_class("gunicorn-asgi") == "asgi"
    assert worker_class("gunicorn-gevent") == "gevent"
    assert "--threads" not in SERVERS["gunicorn-gevent"].argv_template


def test_only_runserver_is_not_production_grade() -> None:
    not_production = [s.name for s in SERVERS.values() if not s.production_grade]
    assert not_production == ["runserver", "runserver-nothreading"]
    assert all(SERVERS[name].interface is Interface.DEV for name in not_production)


def test_unknown_server_error_lists_valid_names() -> None:
    with pytest.raises(KeyError, match="valid servers: runserver, gunicorn"):
        get_server("tomcat")


@pytest.mark.parametrize("name", list(SERVERS))
def test_argv_has_every_placeholder_filled(name: str) -> None:
    argv = SERVERS[name].argv(
        bin_dir=Path("/b"),
        python=Path("/b/python"),
        host="127.0.0.1",
        port=8123,
        workers=3,
        threads=1,
    )
    assert not any("{" in part for part in argv)
    assert any("8123" in part for part in argv)


@pytest.mark.parametrize("name", list(SERVERS))
def test_config_files_exist(name: str) -> None:
    spec = SERVERS[name]
    if spec.config_file:
        assert (Path("servers") / spec.config_file).is_file()


def test_single_process_servers_refuse_more_workers() -> None:
    assert get_server("daphne").validate_counts(2, 1) is not None
    assert get_server("runserver").validate_counts(4, 1) is not None
    assert get_server("gunicorn").validate_counts(4, 2) is None
    assert get_server("uvicorn").validate_counts(3, 2) is not None  # no thread setting
    assert get_server("waitress").validate_counts(2, 4) is not None
    assert get_server("waitress").validate_counts(1, 4) is None
    assert get_server("granian-asgi").validate_counts(2, 2) is not None
    assert get_server("granian-wsgi").validate_counts(2, 8) is None


def test_default_workers_follow_cores_but_respect_limits() -> None:
    assert get_server("gunicorn").default_workers(2) == 2
    assert get_server("daphne").default_workers(8) == 1


def test_interfaces() -> None:
    assert get_server("runserver").interface is Interface.DEV
    assert {SERVERS[n].interface for n in ("gunicorn", "uwsgi")} == {Interface.WSGI}
    assert {SERVERS[n].interface for n in ("daphne", "uvicorn")} == {Interface.ASGI}
    wsgi = ("gunicorn-gevent", "granian-wsgi", "waitress")
    asgi = ("gunicorn-uvicorn", "gunicorn-asgi", "granian-asgi", "hypercorn")
    assert {SERVERS[n].interface for n in wsgi} == {Interface.WSGI}
    assert {SERVERS[n].interface for n in asgi} == {Interface.ASGI}


UNIX_CAPABLE = [name for name, spec in SERVERS.items() if spec.unix_socket is not None]


@pytest.mark.parametrize("name", UNIX_CAPABLE)
def test_a_unix_socket_bind_replaces_the_tcp_bind(name: str) -> None:
    argv = SERVERS[name].argv(
        bin_dir=Path("/b"),
        python=Path("/b/python"),
        host="127.0.0.9",
        port=8123,
        workers=3,
        threads=1,
        socket_path=Path("/run/x/app.sock"),
    )
    assert not any("{" in part for part in argv)
    assert any("/run/x/app.sock" in part for part in argv)
    assert not any("8123" in part or "127.0.0.9" in part for part in argv)


def test_the_servers_that_can_listen_on_a_unix_socket() -> None:
    assert {"gunicorn", "uwsgi", "daphne", "uvicorn"} <= set(UNIX_CAPABLE)
    assert "runserver" not in UNIX_CAPABLE


def test_a_tcp_only_server_refuses_a_socket_path() -> None:
    with pytest.raises(ValueError, match="runserver cannot listen on a Unix socket"):
        get_server("runserver").argv(
            bin_dir=Path("/b"),
            python=Path("/b/python"),
            host="127.0.0.1",
            port=1,
            workers=1,
            threads=1,
            socket_path=Path("/s.sock"),
        )


def _recycle_argv(name: str, max_requests: int | None) -> list[str]:
    return SERVERS[name].argv(
        bin_dir=Path("/bin"),
        python=Path("/bin/python"),
        host="127.0.0.1",
        port=8000,
        workers=2,
        threads=1,
        max_requests=max_requests,
    )


@pytest.mark.parametrize("name", ["gunicorn", "gunicorn-gevent", "uwsgi"])
def test_a_recycling_server_gets_its_max_requests(name: str) -> None:
    argv = _recycle_argv(name, 100)
    assert argv[argv.index("--max-requests") + 1] == "100"
    assert "--max-requests" not in _recycle_argv(name, None)


def test_a_server_without_recycling_refuses_it() -> None:
    with pytest.raises(ValueError, match="runserver has no worker-recycling setting"):
        _recycle_argv("runserver", 100)
    plan = plan_from_args(
        parse_bench_args(["--server", "runserver,gunicorn", "--max-requests", "50"]), (0, 1)
    )
    assert isinstance(plan, str) and plan.startswith("runserver cannot recycle workers")
    assert "gunicorn" in plan and "uwsgi" in plan


def test_the_plan_carries_max_requests() -> None:
    plan = plan_from_args(parse_bench_args(["--server", "uwsgi", "--max-requests", "50"]), (0, 1))
    assert not isinstance(plan, str) and plan.max_requests == 50
