from __future__ import annotations

from servers.placement import default_mode, place


def test_split_gives_disjoint_halves() -> None:
    two = place("split", (0, 1))
    assert (two.server_cpus, two.loadgen_cpus) == ((0,), (1,))
    four = place("split", (0, 1, 2, 3))
    assert (four.server_cpus, four.loadgen_cpus) == ((0, 1), (2, 3))
    three = place("split", (0, 1, 2))
    assert set(three.server_cpus or ()) & set(three.loadgen_cpus or ()) == set()


def test_split_on_one_cpu_falls_back_to_none_and_says_so() -> None:
    one = place("split", (0,))
    assert one.mode == "none" and one.server_cpus is None
    assert "only one CPU" in one.note


def test_none_pins_nothing() -> None:
    none = place("none", (0, 1))
    assert none.server_cpus is None and none.loadgen_cpus is None


def test_default_mode() -> None:
    assert default_mode((0, 1)) == "split"
    assert default_mode((0,)) == "none"
