"""``bagctl.runtimes.memory``: resident memory now and at the peak, as ``bench/scale.py``
reports them for a region's process tree."""

from __future__ import annotations

from bagctl.runtimes.memory import peak_rss_kb, rss_kb


def test_resident_memory_follows_what_the_process_holds() -> None:
    before = rss_kb()
    assert before > 0  # (the peak may lag what is resident now by a few pages)
    held = bytearray(64 * 1024 * 1024)  # written, so resident
    for i in range(0, len(held), 4096):
        held[i] = 1
    assert rss_kb() - before >= 60 * 1024
    assert peak_rss_kb() >= before + 60 * 1024
    del held
    assert rss_kb() < before + 16 * 1024  # given back: now, not the peak
