"""The permission bits a newly created file gets, for files written via ``tempfile.mkstemp``.

``mkstemp`` creates its file private (0600); a data file or leaderboard that is renamed into
place should be as readable as any file the user writes, i.e. ``0o666`` minus the umask.
"""

from __future__ import annotations

import os


def new_file_mode() -> int:
    """``0o666`` minus the process umask (read without changing it for longer than a call)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
