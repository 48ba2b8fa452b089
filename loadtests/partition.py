"""Which seeded accounts each Locust worker uses: divided by Locust's own worker index.

Locust's master numbers its workers 0, 1, 2, ... in the order they connect
(`runner.worker_index`, the same on every machine), and tells every worker the expected
worker count (`expect_workers` travels in each spawn message). Worker i of W takes the
accounts i+1, i+1+W, i+1+2W, ...: disjoint for every worker, with no per-host setting,
so two machines never log in as the same account (a shared refresh token would be
rotated away from under the other). Locust's dispatcher spreads users evenly, but which
worker gets the one more user of an uneven split depends on its random client id, so the
bench seeds `accounts_needed(users, workers)` accounts: every share holds as many accounts
as the most users a worker can be given, and every simulated user has an account of its
own. A worker given more users than its share cycles over its own share, never over
another worker's.
"""

from __future__ import annotations


def accounts_needed(users: int, workers: int) -> int:
    """Accounts to seed so that each of `workers` shares covers ceil(users / workers)."""
    workers = max(workers, 1)
    return workers * -(-users // workers)


def account_number(issued: int, worker_index: int, workers: int, accounts: int) -> int:
    """The 1-based account of the `issued`-th user (0-based) this worker starts.

    A worker index beyond the expected count (a replacement worker that joined late) wraps
    onto the slot of the worker it replaces."""
    share = accounts_of_worker(worker_index, workers, accounts)
    if not share:  # more workers than accounts: this one has none of its own
        return (issued * max(workers, 1) + worker_index) % max(accounts, 1) + 1
    return share[issued % len(share)]


def accounts_of_worker(worker_index: int, workers: int, accounts: int) -> tuple[int, ...]:
    """Every 1-based account worker `worker_index` of `workers` may use (the tokens the
    master sends it)."""
    workers = max(workers, 1)
    slot = worker_index % workers
    return tuple(range(slot + 1, max(accounts, 0) + 1, workers))
