"""Pick a `ResourceStore` implementation from a database URL.

`sqlite:///<path>` opens an SQLite file, where the path is whatever follows the third slash:
`sqlite:////var/lib/sagestack.db` is absolute, `sqlite:///data/sagestack.db` relative to the
working directory. `memory://` keeps everything in memory for the life of the process.
"""

from __future__ import annotations

from sagestack.store.base import ResourceStore
from sagestack.store.memory import MemoryResourceStore
from sagestack.store.sqlite import SqliteResourceStore

_SQLITE = "sqlite:///"


def open_store(url: str) -> ResourceStore:
    """The store a URL names; ValueError for a URL no store understands."""
    if url == "memory://":
        return MemoryResourceStore()
    if url.startswith(_SQLITE) and len(url) > len(_SQLITE) and "?" not in url:
        return SqliteResourceStore(url[len(_SQLITE) :])
    raise ValueError(
        f"Unsupported database URL {url!r}: expected 'sqlite:///<path>'"
        " (four slashes for an absolute path) or 'memory://'"
    )
