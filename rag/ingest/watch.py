"""Watch folders, feeds and page URLs: every so often, ingest what is new or changed.

One line is logged per cycle. A source that fails (a feed or page down, a folder
gone) is reported in that line and tried again next cycle; the watch goes on. Ctrl-C
stops it between two steps, after the state of the step under way is saved. The
state (fetch validators, URLs and texts taken, folder fingerprints) lives in files
under ``state_dir`` and survives restarts.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError
from rag.ingest.feeds import FeedReader, PollReport
from rag.ingest.read import file_suffix

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.I)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """Seconds in an interval written "90s", "15m", "2h" or "1d" (plain: seconds).

    >>> parse_every("15m"), parse_every("2h"), parse_every("45")
    (900.0, 7200.0, 45.0)
    """
    m = _EVERY.match(text)
    if not m or float(m.group(1)) <= 0:
        raise RagError(f"--every takes an interval such as 30s, 15m or 2h, not {text!r}")
    return float(m.group(1)) * _UNIT[(m.group(2) or "s").lower()]


def folder_fingerprint(folder: Path, suffixes: Iterable[str]) -> dict[str, list[int]]:
    """{path: [size, mtime_ns]} of the article files under ``folder`` (hidden ones skipped)."""
    want = {s.lower() for s in suffixes}
    out: dict[str, list[int]] = {}
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            p = Path(root) / name
            if name.startswith(".") or file_suffix(p) not in want:
                continue
            try:
                st = p.stat()
            except OSError:
                continue  # vanished between listing and stat: the next cycle sees it
            out[str(p)] = [st.st_size, st.st_mtime_ns]
    return out


@dataclass
class CycleReport:
    n: int
    added: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """The one log line of the cycle.

        >>> CycleReport(3, added=2, unchanged=4, failed=["https://x/feed: HTTP 503"], seconds=1.25).line()
        'cycle 3: 2 new, 4 sources unchanged, 1 failed (https://x/feed: HTTP 503; retried next cycle) in 1.2 s'
        """
        s = f"cycle {self.n}: {self.added} new, {self.unchanged} sources unchanged"
        if self.failed:
            s += f", {len(self.failed)} failed ({'; '.join(self.failed)}; retried next cycle)"
        return s + f" in {self.seconds:.1f} s"


IngestPaths = Callable[[list[Path]], object]  # returns a report with an ``added`` / ``updated`` list


class Watcher:
    """Poll ``folders`` and ``urls`` every ``every_s`` seconds until stopped."""

    def __init__(
        self,
        *,
        folders: list[Path],
        urls: list[str],
        feed_files: list[Path] | None = None,
        more_urls: Callable[[], list[str]] | None = None,
        reader: FeedReader,
        ingest_paths: IngestPaths,
        state_dir: Path,
        suffixes: Iterable[str],
        every_s: float,
        log: Callable[[str], None] = print,
    ) -> None:
        self.folders = folders
        self.urls = urls
        self.feed_files = feed_files or []
        self.more_urls = more_urls  # read every cycle (the page's feed list can change meanwhile)
        self.reader = reader
        self.ingest_paths = ingest_paths
        self.every_s = every_s
        self.log = log
        self.suffixes = tuple(suffixes)
        self.stop_event = threading.Event()
        self._state_path = state_dir / "watch-folders.json"
        self._prints = self._load()
        self.cycles = 0

    def _load(self) -> dict:
        try:
            return json.loads(self._state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RagError(f"the watch state {self._state_path} is unreadable ({exc}); delete it") from None

    def _save(self) -> None:
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._state_path.parent, prefix=".watch.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._prints, fh)
        os.replace(tmp, self._state_path)

    def cycle(self) -> CycleReport:
        """Poll every source once; never raises for a source that fails."""
        self.cycles += 1
        rep = CycleReport(self.cycles)
        t0 = time.perf_counter()
        for folder in self.folders:
            self._folder(folder, rep)
        for url in self._urls(rep):
            self._poll(url, rep, lambda u=url: self.reader.poll_url(u))
        for path in self.feed_files:
            self._poll(str(path), rep, lambda p=path: self.reader.poll_file(p))
        rep.seconds = time.perf_counter() - t0
        self.log(rep.line())
        return rep

    def _urls(self, rep: CycleReport) -> list[str]:
        if self.more_urls is None:
            return list(self.urls)
        try:
            return [*self.urls, *self.more_urls()]
        except RagError as exc:
            rep.failed.append(str(exc))
            return list(self.urls)

    def _folder(self, folder: Path, rep: CycleReport) -> None:
        if not folder.is_dir():
            rep.failed.append(f"{folder}: no such folder")
            return
        now = folder_fingerprint(folder, self.suffixes)
        key = str(folder.resolve())
        if self._prints.get(key) == now:
            rep.unchanged += 1
            return
        try:
            result = self.ingest_paths([folder])
        except (RagError, OSError) as exc:
            rep.failed.append(f"{folder}: {exc}")
            return
        rep.added += len(getattr(result, "added", [])) + len(getattr(result, "updated", []))
        self._prints[key] = now
        self._save()

    def _poll(self, name: str, rep: CycleReport, poll: Callable[[], PollReport]) -> None:
        try:
            r = poll()
        except (RagError, OSError) as exc:
            rep.failed.append(f"{name}: {exc}")
            return
        if r.not_modified or (not r.added and not r.failed):
            rep.unchanged += 1
        rep.added += len(r.added)
        rep.failed.extend(f"{f['url']}: {f['reason']}" for f in r.failed)

    def run(self, max_cycles: int | None = None) -> int:
        """Cycle until ``stop()``, Ctrl-C or ``max_cycles``; returns the cycles run."""
        try:
            while not self.stop_event.is_set():
                self.cycle()
                if max_cycles is not None and self.cycles >= max_cycles:
                    break
                self.stop_event.wait(self.every_s)
        except KeyboardInterrupt:
            self.log(f"stopped after {self.cycles} cycles (state saved)")
        return self.cycles

    def stop(self) -> None:
        self.stop_event.set()
