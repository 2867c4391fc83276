"""Two threads made to meet at one point of a service, so a test can prove that the
service's lock makes them take turns (each race test runs two threads on two
connections, PostgreSQL only)."""

import threading


class Rendezvous:
    """A meeting point for two threads: each waits up to ``timeout`` seconds for the
    other. A thread that waits in vain goes on alone — the other is blocked on the lock
    under test, which is what the test wants to see."""

    def __init__(self, timeout: float = 2.0):
        self.barrier = threading.Barrier(2)
        self.timeout = timeout

    def __call__(self) -> None:
        try:
            self.barrier.wait(timeout=self.timeout)
        except threading.BrokenBarrierError:
            pass


def meet_after(monkeypatch, owner, name: str, *, read=None) -> None:
    """Replace ``owner.name`` by itself followed by a rendezvous of the two threads: both
    have read what the function reads before either goes on (without the lock, both
    read the same state). ``read``: what the caller reads of a lazy result, done before
    the meeting (a draft status reads its problems only when asked)."""
    original = getattr(owner, name)
    meet = Rendezvous()

    def then_meet(*args, **kwargs):
        result = original(*args, **kwargs)
        if read is not None:
            read(result)
        meet()
        return result

    monkeypatch.setattr(owner, name, then_meet)
