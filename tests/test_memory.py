"""The glibc malloc settings a reader that reopens Chroma relies on (rag.index.memory):
each is a real mallopt/malloc_trim call that glibc accepts."""

from __future__ import annotations

import platform

import pytest

from rag.index import memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")


@glibc
def test_glibc_accepts_the_malloc_settings():
    assert memory.cap_malloc_arenas() is True
    assert memory.map_large_blocks() is True
    assert memory.prepare_for_reopens() is True  # both, as `rag serve` sets them at start


@glibc
def test_free_pages_inside_the_heap_are_returned():
    blocks = [bytearray(64 * 1024) for _ in range(1000)]  # ~64 MB cut from the heap
    del blocks[::2]  # holes in the middle of the heap: free, still resident
    before = memory.rss_mb()
    assert memory.release_free_memory() is True
    assert memory.rss_mb() < before - 10  # ~32 MB of holes went back to the system
    assert len(blocks) == 500
