"""A multipart object's content read as one file: its part files, end to end.

Completing a multipart upload only indexes the parts in order, so it costs no copy of the data;
reads see one seekable stream.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path


class JoinedBlob(io.RawIOBase):
    def __init__(self, paths: Sequence[Path]) -> None:
        super().__init__()
        self._files = [path.open("rb") for path in paths]
        self._sizes = [os.fstat(handle.fileno()).st_size for handle in self._files]
        self._size = sum(self._sizes)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill `buffer` from the part holding the current position (one part per call)."""
        start = 0
        for handle, size in zip(self._files, self._sizes, strict=True):
            if self._position < start + size:
                handle.seek(self._position - start)
                wanted = min(len(buffer), start + size - self._position)
                count = handle.readinto(memoryview(buffer)[:wanted])
                self._position += count
                return count
            start += size
        return 0

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        super().close()
