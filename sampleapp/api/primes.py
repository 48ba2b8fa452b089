"""Deliberately pure-Python CPU work for ``/api/compute/``.

It must hold the GIL for its whole run, like real Python-level computation, so that the
benchmark shows how each server copes with CPU-bound requests (threads do not help here,
processes do). Every step is an interpreted loop on purpose: do not "optimise" it with slice
assignment, numpy or any other C-backed shortcut, or the workload changes character.
"""


def count_primes_below(n: int) -> int:
    """Count the primes p with 2 <= p < n using a sieve of Eratosthenes written as loops."""
    if n < 3:
        return 0
    composite = bytearray(n)
    count = 0
    for candidate in range(2, n):
        if composite[candidate]:
            continue
        count += 1
        for multiple in range(candidate * candidate, n, candidate):
            composite[multiple] = 1
    return count
