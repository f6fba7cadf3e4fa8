"""Keeping a long-running reader's memory flat.

Each reopen of the local Chroma client (to see another process's writes) starts a new
Chroma System with its own threads. With glibc's default of up to 8 malloc arenas per
core, the freed memory of those threads stays fragmented in their arenas and the
resident size grows with every reopen (measured: 166 -> 328 MB over 300 reopens at 10k
vectors), although nothing leaks. Two arenas keep it flat (163 -> 172 MB).

With two arenas a reader that reopens on every foreign write still grew ~0.07 MB per
reopen: the memory malloc had handed out stayed flat (no Python object type grew
either), but the free space inside the arenas grew, as each new System's large buffers
were cut from the heap and left holes behind. Large blocks in their own mappings
(returned to the system when freed) and free pages given back after each reopen cut
that and the resident size by ~30 MB (400 reopens: 159 -> 173 MB, against 185 -> 207
MB without; both end figures taken after reading every article record back, which
alone leaves ~16 MB resident).

A long-running reader (``rag serve``) sets both before it opens the index
(:func:`prepare_for_reopens`), so the first System's threads use the capped arenas
too: over 300 reopens beside a writer, 4.7 KB per reopen against 13 KB when they are
set at the first reopen (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 256 * 1024  # bytes: larger blocks get their own mapping (glibc's default floats up to 32 MB)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's malloc arenas for the rest of the process (glibc's public
    ``mallopt``); False where there is no glibc (nothing to do there)."""
    libc = _libc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, arenas))


@functools.cache
def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Give every malloc block of at least ``threshold`` bytes its own mapping for the rest
    of the process (glibc's public ``mallopt``), so that freeing it returns it to the
    system instead of leaving a hole in an arena; False where there is no glibc."""
    libc = _libc()
    return libc is not None and bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))


def prepare_for_reopens() -> bool:
    """Set malloc up for a process that will reopen Chroma clients (two arenas, large blocks
    in their own mappings); best called before the first client opens. False without glibc."""
    arenas, blocks = cap_malloc_arenas(), map_large_blocks()
    return arenas and blocks


def release_free_memory() -> bool:
    """Return the free pages inside malloc's arenas to the system (glibc's public
    ``malloc_trim``; under a millisecond at these sizes); True when some were returned."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux; 0.0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
