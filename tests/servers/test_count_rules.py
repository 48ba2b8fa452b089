"""The documented worker and thread counts (servers/count_rules.py)."""

from __future__ import annotations

from servers.count_rules import THREAD_RULES, WORKER_RULES


def test_gunicorn_starts_with_two_workers_per_core_plus_one() -> None:
    rule = WORKER_RULES["gunicorn"]
    assert [rule.apply(cores) for cores in (1, 2, 4)] == [3, 5, 9]
    text = rule.describe("WORKERS", 1, 3)
    assert text.startswith("WORKERS=auto: (2 x cores) + 1 = 3 for 1 core(s)")
    assert "How many workers?" in text


def test_servers_without_a_formula_say_so_and_take_one_per_core() -> None:
    for name in ("uwsgi", "uvicorn", "hypercorn"):
        rule = WORKER_RULES[name]
        assert rule.apply(3) == 3
        assert "stated rule" in rule.source
    assert WORKER_RULES["granian"].apply(2) == 2
    assert WORKER_RULES["single-process"].apply(8) == 1


def test_thread_rules() -> None:
    assert THREAD_RULES["gunicorn"].apply(2) == 4  # 2-4 x cores, the low end
    # granian's own WSGI default: backlog 1024 / workers / 2
    assert THREAD_RULES["granian-wsgi"].apply(1, workers=1) == 512
    assert THREAD_RULES["granian-wsgi"].apply(1, workers=4) == 128
    assert THREAD_RULES["waitress"].apply(16) == 4
    assert THREAD_RULES["none"].apply(16) == 1
