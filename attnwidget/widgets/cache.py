"""`LruCache`: what a view keeps in its widget state, least recently used dropped first.

Every view that holds more than the selected map (the shared data model's coded maps, the diff's
map pairs, the neuron view's head vectors, the heatmap's served tiles) keeps it in one of these,
within one byte budget, `DEFAULT_MAX_BYTES` unless the caller gives ``max_bytes``. What is held is
also what an exported page carries, so the budget bounds a saved page as much as the kernel's
memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["LruCache", "DEFAULT_MAX_BYTES"]

# The one default budget of a view's held state. On SmolLM2 at 128 tokens a coded map is about
# 7 KB: the selected layer's heads, every layer's fused map and the layers next to the selected
# one fit (54 of 360 maps), and a saved show() page stays under 1.5 MB. Views that hold larger
# entries (float16 map pairs, head vectors) hold fewer of them; the selected one always.
DEFAULT_MAX_BYTES = 384 * 2**10

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """Entries within a byte budget, in order of use (least recent first).

    Parameters
    ----------
    size : callable
        Bytes an entry counts for (measured once, when it is added).
    max_bytes : int
        The budget. The entry added last is kept even when it alone is over it, so the selection
        is always held.

    Entries in `pinned` are never dropped to make room (maps another view draws from).
    """

    def __init__(self, size: Callable[[V], int], max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = int(max_bytes)
        self.pinned: set[K] = set()
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._bytes: dict[K, int] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def keys(self) -> list[K]:
        """Keys, least recently used first."""
        return list(self._items)

    def values(self) -> list[V]:
        """Entries in the order of `keys`."""
        return list(self._items.values())

    @property
    def held_bytes(self) -> int:
        """Bytes the entries count for together."""
        return sum(self._bytes.values())

    def touch(self, key: K) -> bool:
        """Mark `key` used now; False when it is not held."""
        if key not in self._items:
            return False
        self._items.move_to_end(key)
        return True

    def add(self, key: K, value: V) -> None:
        """Hold `value` as the most recent entry, dropping the least recently used unpinned others
        while over budget."""
        self._put(key, value)
        while self.held_bytes > self.max_bytes:
            old = next((k for k in self._items if k != key and k not in self.pinned), None)
            if old is None:
                break
            self.drop(old)

    def offer(self, key: K, value: V) -> bool:
        """Hold `value` only if it fits in what is left of the budget (prefetching); False when
        it does not, and nothing changes."""
        if self.held_bytes + int(self._size(value)) > self.max_bytes:
            return False
        self._put(key, value)
        return True

    def drop(self, key: K) -> None:
        """Forget `key` (no error when it is not held)."""
        self._items.pop(key, None)
        self._bytes.pop(key, None)

    def clear(self) -> None:
        """Forget every entry (pins stay: they name keys, not entries)."""
        self._items.clear()
        self._bytes.clear()

    def _put(self, key: K, value: V) -> None:
        self.drop(key)
        self._items[key] = value
        self._bytes[key] = int(self._size(value))
