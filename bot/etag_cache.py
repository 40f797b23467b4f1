"""One ETag cache for every installation, bounded by the bytes it holds.

An entry is a GET's answer as GitHub sent it (the raw body, its content type and Link header)
with the ETag and Last-Modified to revalidate it, keyed by (installation, URL, Accept): an ETag
belongs to the token that fetched it, so one installation's entry is never sent for another.
Bodies are kept as bytes and parsed again on every 304 that serves them, so a hit hands out a
fresh object nobody else holds, and what the cache costs is close to what it counts. The least
recently used entries go first once the total exceeds the limit; a body larger than a fraction
of the limit is not kept at all (it would push out many small ones).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

# What an entry costs besides its body and headers: the key tuple, the entry object, the
# ordered dict's node. Counted so that a flood of tiny bodies is bounded too.
ENTRY_OVERHEAD = 400
# A body over limit // OVERSIZE_FRACTION is answered but not kept.
OVERSIZE_FRACTION = 16

Key = tuple[int, str, str]  # (installation, URL, Accept)


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached answer: enough to revalidate it and to rebuild the response it was."""

    etag: str | None
    last_modified: str | None
    content_type: str | None
    link: str | None
    body: bytes

    def size(self, key: Key) -> int:
        """The bytes this entry is charged for."""
        text = (self.etag, self.last_modified, self.content_type, self.link, key[1], key[2])
        return ENTRY_OVERHEAD + len(self.body) + sum(len(t) for t in text if t is not None)


class EtagCache:
    """A least-recently-used map of Key -> Entry whose total size stays within `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self._entries: OrderedDict[Key, tuple[Entry, int]] = OrderedDict()
        self._limit = max(0, limit)
        self.bytes = 0  # what the entries held now are charged for

    @property
    def limit(self) -> int:
        """The most bytes the cache holds."""
        return self._limit

    @limit.setter
    def limit(self, limit: int) -> None:
        self._limit = max(0, limit)
        self._evict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Key) -> bool:
        return key in self._entries

    def get(self, key: Key) -> Entry | None:
        """The entry, now the most recently used; None when there is none."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: Key, entry: Entry) -> bool:
        """Keep an entry (replacing the key's old one); False when it is too large to keep."""
        self.discard(key)
        size = entry.size(key)
        if size > self._limit // OVERSIZE_FRACTION:
            return False
        self._entries[key] = (entry, size)
        self.bytes += size
        self._evict()
        return True

    def discard(self, key: Key) -> None:
        """Drop the key's entry, if any."""
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[1]

    def _evict(self) -> None:
        while self.bytes > self._limit and self._entries:
            _, (_, size) = self._entries.popitem(last=False)
            self.bytes -= size
