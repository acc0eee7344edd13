"""The queue poller's back-off, as the Functions host computes it (the WebJobs SDK's
RandomizedExponentialBackoffStrategy with QueuePollingIntervals.Minimum of 100 ms)."""

import random
from datetime import timedelta

import pytest

from devhost.host_config import MIN_POLLING_INTERVAL
from devhost.queue_poller import BackOff

MS = timedelta(milliseconds=1)


def _delays(back_off: BackOff, count: int) -> list[timedelta]:
    return [back_off.next_delay() for _ in range(count)]


@pytest.mark.parametrize("seed", range(5))
def test_empty_polls_back_off_from_the_minimum_doubling_the_increment_until_the_maximum(seed: int) -> None:
    back_off = BackOff(timedelta(seconds=2), random.Random(seed))

    first, *growing = _delays(back_off, 6)
    held = _delays(back_off, 5)

    assert first == MIN_POLLING_INTERVAL
    # The n-th empty poll after the first waits 100 ms + 2^(n-1) x 100 ms, randomised by +/-20%:
    # about 200, 300, 500, 900 ms, then 1.7 s, all under the 2 s maximum.
    for exponent, delay in enumerate(growing[:5], start=1):
        increment = 2 ** (exponent - 1) * 100
        assert 100 + 0.8 * increment <= delay / MS <= 100 + 1.2 * increment, (exponent, delay)
    # The next increment (3.2 s) passes the maximum: from there every poll waits the maximum.
    assert held == [timedelta(seconds=2)] * 5


def test_a_poll_that_found_messages_starts_the_back_off_again_from_the_minimum() -> None:
    back_off = BackOff(timedelta(seconds=2), random.Random(1))
    _delays(back_off, 10)  # at the maximum by now

    back_off.found_messages()
    after, second = _delays(back_off, 2)

    assert after == MIN_POLLING_INTERVAL
    assert 180 <= second / MS <= 220


def test_a_maximum_at_the_minimum_polls_every_100_ms() -> None:
    back_off = BackOff(MIN_POLLING_INTERVAL, random.Random(2))

    assert _delays(back_off, 4) == [MIN_POLLING_INTERVAL] * 4
