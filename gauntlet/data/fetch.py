"""Cached, checksummed downloads of the public data files some environments need.

Files live under the data home, at the relative path their :class:`RemoteFile` names:

- ``$GAUNTLET_DATA_HOME`` when set,
- otherwise ``$XDG_CACHE_HOME/gauntlet`` (``~/.cache/gauntlet`` when ``XDG_CACHE_HOME`` is unset).

Every read verifies the file's sha256. A missing file is downloaded on first use; a cached
file whose hash is wrong is never used: it is downloaded again (replacing it atomically) and,
if that is impossible, :class:`DataChecksumError` says which file is corrupt, its actual and
expected hashes and where to put a verified copy. A download that fails (no network, HTTP
error) raises :class:`DataUnavailableError` naming the file, the URL, the place to put a
manually downloaded copy and its expected sha256.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from gauntlet.file_mode import new_file_mode

DATA_HOME_ENV = "GAUNTLET_DATA_HOME"
_TIMEOUT_S = 30.0


class DataUnavailableError(FileNotFoundError):
    """A data file is not in the cache and could not be downloaded."""


class DataChecksumError(OSError):
    """A data file (cached or just downloaded) does not have the expected sha256."""


@dataclass(frozen=True)
class RemoteFile:
    """A public file: where it lives under the data home, where to download it, its sha256."""

    relpath: str
    url: str
    sha256: str


def data_home() -> Path:
    """The data home: ``$GAUNTLET_DATA_HOME``, else ``$XDG_CACHE_HOME/gauntlet``, else ``~/.cache/gauntlet``."""
    explicit = os.environ.get(DATA_HOME_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "gauntlet"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, destination: Path) -> None:
    """Stream ``url`` into ``destination`` (tests replace this function to simulate being offline)."""
    request = urllib.request.Request(url, headers={"User-Agent": "gauntlet-rl"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, open(destination, "wb") as out:
        for block in iter(lambda: response.read(1 << 20), b""):
            out.write(block)


def _manual_instructions(remote: RemoteFile, target: Path) -> str:
    return (
        f"download {remote.url} yourself and place it at {target} (expected sha256 {remote.sha256}), "
        f"or point {DATA_HOME_ENV} at a directory holding {remote.relpath}"
    )


def fetch(remote: RemoteFile, home: str | os.PathLike[str] | None = None, download: bool = True) -> Path:
    """Return the verified local path of ``remote``, downloading it into the data home if needed.

    Args:
        remote: the file to fetch.
        home: the data home; ``None`` means :func:`data_home`.
        download: when False, never touch the network (a missing or corrupt file is an error).

    Raises:
        DataUnavailableError: the file is missing and could not be downloaded.
        DataChecksumError: the cached file is corrupt and could not be replaced, or the
            downloaded file has the wrong hash.
    """
    target = (Path(home).expanduser() if home is not None else data_home()) / remote.relpath
    corrupt_hash: str | None = None
    if target.is_file():
        actual = sha256_of(target)
        if actual == remote.sha256:
            return target
        corrupt_hash = actual

    if not download or (corrupt_hash is not None and not os.access(target.parent, os.W_OK)):
        reason = "downloads are disabled" if not download else f"{target.parent} is not writable"
        if corrupt_hash is not None:
            raise DataChecksumError(
                f"cached file {target} is corrupt: sha256 {corrupt_hash}, expected {remote.sha256}; "
                f"it was not used and could not be re-fetched ({reason}). Replace it: "
                + _manual_instructions(remote, target)
            )
        raise DataUnavailableError(
            f"data file {remote.relpath} is not in {target.parent} and {reason}; "
            + _manual_instructions(remote, target)
        )

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise DataUnavailableError(
            f"cannot write data file {remote.relpath} into {target.parent} ({exc}); "
            + _manual_instructions(remote, target)
        ) from exc
    tmp = Path(tmp_name)
    try:
        try:
            _download(remote.url, tmp)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            what = f"cached file {target} is corrupt (sha256 {corrupt_hash}) and " if corrupt_hash else ""
            error = DataChecksumError if corrupt_hash else DataUnavailableError
            raise error(
                f"{what}data file {remote.relpath} could not be downloaded from {remote.url} ({exc}); "
                + _manual_instructions(remote, target)
            ) from exc
        actual = sha256_of(tmp)
        if actual != remote.sha256:
            raise DataChecksumError(
                f"downloaded {remote.url} has sha256 {actual}, expected {remote.sha256}; it was discarded. "
                f"Place a verified copy at {target}"
            )
        tmp.chmod(new_file_mode())  # mkstemp made it private
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
