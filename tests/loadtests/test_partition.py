"""Seeded accounts divided among Locust workers by their index."""

from __future__ import annotations

import pytest

from loadtests.partition import account_number, accounts_needed, accounts_of_worker


@pytest.mark.parametrize(("workers", "accounts"), [(1, 16), (2, 16), (3, 16), (4, 6), (5, 16)])
def test_shares_are_disjoint_and_cover_every_account(workers: int, accounts: int) -> None:
    shares = [set(accounts_of_worker(index, workers, accounts)) for index in range(workers)]
    assert set().union(*shares) == set(range(1, accounts + 1))
    assert sum(len(share) for share in shares) == accounts


def test_users_of_an_uneven_split_each_get_an_account_of_their_own() -> None:
    """16 users over 3 workers as Locust's dispatcher spreads them (6, 5, 5), whichever
    worker gets the sixth: with the accounts the bench seeds, 16 different accounts."""
    accounts = accounts_needed(16, 3)
    assert accounts == 18
    for counts in ((6, 5, 5), (5, 6, 5), (5, 5, 6)):
        taken = [
            account_number(issued, index, 3, accounts)
            for index, count in enumerate(counts)
            for issued in range(count)
        ]
        assert len(set(taken)) == 16, counts


def test_a_worker_given_more_users_than_its_share_cycles_over_its_own_share() -> None:
    share = accounts_of_worker(1, 2, 6)
    assert share == (2, 4, 6)
    assert [account_number(issued, 1, 2, 6) for issued in range(5)] == [2, 4, 6, 2, 4]


def test_a_late_replacement_worker_takes_the_slot_of_the_one_it_replaces() -> None:
    assert accounts_of_worker(2, 2, 8) == accounts_of_worker(0, 2, 8)


def test_one_process_takes_the_accounts_in_order() -> None:
    assert [account_number(issued, 0, 1, 4) for issued in range(6)] == [1, 2, 3, 4, 1, 2]


@pytest.mark.parametrize(("users", "workers", "needed"), [(16, 1, 16), (16, 2, 16), (4, 3, 6)])
def test_accounts_needed_rounds_up_to_whole_shares(users: int, workers: int, needed: int) -> None:
    assert accounts_needed(users, workers) == needed
