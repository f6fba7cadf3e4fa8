"""Keeping a long-running reader's memory flat.

Each reopen of the local Chroma client (to see another process's writes) starts a new
Chroma System with its own threads. With glibc's default of up to 8 malloc arenas per
core, the freed memory of those threads stays fragmented in their arenas and the
resident size grows with every reopen (measured: 166 -> 328 MB over 300 reopens at 10k
vectors), although nothing leaks. Two arenas keep it flat (163 -> 172 MB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


@functools.cache
def cap_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit glibc's malloc arenas for the rest of the process (glibc's public
    ``mallopt``); False where there is no glibc (nothing to do there)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux; 0.0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
