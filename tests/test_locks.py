"""The live city's locks hand over in turn: an advance that takes the writer day after day
cannot starve a submission, nor a stream of readers an advance."""

from __future__ import annotations

import threading
import time

import pytest

from xinyong.service.locks import FairLock, ReadWriteLock


def _wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_the_writer_lock_goes_to_its_waiters_in_the_order_they_came() -> None:
    lock, order = FairLock(), []

    def take(name: str) -> None:
        with lock:
            order.append(name)

    lock.acquire()  # the advance holds it for a day
    waiting = []
    for count, name in enumerate(("a", "b", "c"), start=1):
        t = threading.Thread(target=take, args=(name,))
        t.start()
        waiting.append(t)
        _wait_until(lambda count=count: len(lock._queue) == count)
    lock.release()  # the day is done, and the advance asks again at once
    lock.acquire()
    order.append("advance")
    lock.release()
    for t in waiting:
        t.join()
    assert order == ["a", "b", "c", "advance"]


def test_the_writer_lock_is_reentrant_and_only_its_holder_releases_it() -> None:
    lock = FairLock()
    with lock, lock:  # a decision that submits, say
        pass
    lock.acquire()
    refused: list[BaseException] = []

    def release_from_another_thread() -> None:
        try:
            lock.release()
        except RuntimeError as exc:
            refused.append(exc)

    other = threading.Thread(target=release_from_another_thread)
    other.start()
    other.join()
    assert len(refused) == 1
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()


def test_a_waiting_writer_holds_back_new_readers_and_waiting_readers_go_next() -> None:
    lock, order, day_done = ReadWriteLock(), [], threading.Event()

    def write(name: str, hold: bool) -> None:
        with lock.write():
            order.append(name)
            if hold:
                day_done.wait(timeout=10)

    def read() -> None:
        with lock.read():
            order.append("r")

    lock.acquire_read()  # a reader is in
    first = threading.Thread(target=write, args=("w1", True))
    first.start()
    _wait_until(lambda: lock._writers_waiting == 1)
    assert not lock.acquire_read(blocking=False)  # a new reader waits behind the writer
    reader = threading.Thread(target=read)
    reader.start()
    _wait_until(lambda: lock._readers_waiting == 1)
    lock.release_read()
    _wait_until(lambda: order == ["w1"])  # the writer is in, a day long
    second = threading.Thread(target=write, args=("w2", False))  # the next day asks at once
    second.start()
    _wait_until(lambda: lock._writers_waiting == 1)
    day_done.set()
    for t in (first, reader, second):
        t.join(timeout=10)
    assert order == ["w1", "r", "w2"]
