import threading
import time

import pytest

from swiftvr_cli.pipeline.stages import END, StageGroup


def test_error_in_one_stage_stops_all_and_is_raised_once():
    group = StageGroup()
    q = group.channel(2)

    def producer():
        i = 0
        while True:  # would run forever without cancellation
            q.put(i)
            i += 1

    def consumer():
        for item in q:
            if item == 5:
                raise ValueError("boom at 5")

    group.start("producer", producer)
    group.start("consumer", consumer)
    start = time.monotonic()
    with pytest.raises(ValueError, match="boom at 5"):
        group.join()
    assert time.monotonic() - start < 2
    assert group.failed_stage == "consumer"
    assert not [t for t in threading.enumerate() if t.name.startswith("swiftvr-")]


def test_bounded_queue_limits_items_in_flight():
    group = StageGroup()
    q = group.channel(3)
    produced = []

    def producer():
        for i in range(50):
            q.put(i)
            produced.append(i)
        q.put(END)

    def consumer():
        for item in q:
            time.sleep(0.002)
            assert len(produced) - item <= 3 + 2

    group.start("p", producer)
    group.start("c", consumer)
    group.join()
    assert len(produced) == 50
