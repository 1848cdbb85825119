"""Where a catalog keeps its bytes: a local folder or an object store, behind one small interface.

Only one operation must be atomic for the catalog to be safe: :meth:`Store.put_if_absent`, which writes a
version's manifest only when no manifest of that number exists (a hard link on a local disk, a conditional
``PUT`` with ``If-None-Match: *`` on S3). Everything else is plain file I/O through fsspec.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import xxhash

from gristmill.errors import GristmillError, UsageError


class AlreadyExists(GristmillError):
    """put_if_absent lost the race: another writer holds that name."""


class StoreUnreachable(GristmillError):
    """An object store failed (no connection, no credentials, no such bucket): a runtime failure, exit 1."""


def _remote_errors(fn: Callable) -> Callable:
    """An object-store client's own exceptions (botocore's, aiohttp's) become one :class:`StoreUnreachable`
    naming the root, instead of a traceback; what the catalog's logic relies on passes through."""

    @functools.wraps(fn)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except (FileNotFoundError, GristmillError):
            raise
        except Exception as exc:
            if self.is_local and isinstance(exc, OSError):
                raise
            # the client's other requests fail too, as tasks nobody awaits any more: asyncio would print each
            # one's traceback ("Task exception was never retrieved") after this one-line error
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
            raise StoreUnreachable(f"catalog root {self.uri}: {type(exc).__name__}: {exc}") from exc

    return wrapper


def file_hash(path: str | Path) -> str:
    """xxh3-128 of a local file's bytes, in the same form as the run summary's input fingerprints."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return f"xxh3-128:{h.hexdigest()}"


def bytes_hash(data: bytes) -> str:
    return f"xxh3-128:{xxhash.xxh3_128_hexdigest(data)}"


class Store:
    """Files under a root, addressed by '/'-separated keys.

    On a local disk what every command does (exists, read, list) is plain ``os`` calls, and fsspec, whose
    import with asyncio costs a command ~0.05 s, is imported only for the rest (walking, deleting, copying).
    """

    def __init__(self, root: str) -> None:
        self.uri = root
        self.is_local = "://" not in root or root.startswith("file://")
        if self.is_local:
            self.root = os.path.abspath(os.path.expanduser(root.removeprefix("file://")))
        else:
            self.fs  # noqa: B018 - an object store's client is made now: a bad root fails here, clearly
            self.root = root.split("://", 1)[1].rstrip("/")
            if not self.root:
                raise UsageError(f"catalog root {root!r} names no bucket (e.g. s3://bucket/prefix)")

    @cached_property
    def fs(self) -> Any:
        import fsspec

        if self.is_local:
            return fsspec.filesystem("file")
        protocol = self.uri.split("://", 1)[0]
        try:
            return fsspec.filesystem(protocol, **_storage_options(protocol))
        except (ImportError, ValueError) as exc:
            raise UsageError(f"cannot open catalog root {self.uri!r}: {exc} (for s3:// install s3fs)") from None

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def url(self, key: str) -> str:
        """What another tool opens: a local path, or the object-store URI."""
        return self.path(key) if self.is_local else f"{self.uri.split('://', 1)[0]}://{self.path(key)}"

    def check_writable(self) -> None:
        """Refuse (exit 2) before anything is written when the root cannot take a file; an object store that
        does not answer is a runtime failure (:class:`StoreUnreachable`, exit 1)."""
        if self.is_local:
            try:
                os.makedirs(self.root, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                    pass
            except OSError as exc:
                raise UsageError(f"catalog root {self.root} is not writable: {exc.strerror or exc}") from None
            return
        probe = f".probe-{uuid.uuid4().hex}"
        try:
            self.fs.pipe_file(self.path(probe), b"")
            self.fs.rm_file(self.path(probe))
        except (PermissionError, FileNotFoundError) as exc:  # refused, or no such bucket: the root is wrong
            raise UsageError(f"catalog root {self.uri} is not writable: {type(exc).__name__}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - each client raises its own kinds: the store did not answer
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # (see _remote_errors)
            raise StoreUnreachable(f"catalog root {self.uri}: {type(exc).__name__}: {exc}") from None

    @_remote_errors
    def exists(self, key: str) -> bool:
        if self.is_local:
            return os.path.exists(self.path(key))
        return self.fs.exists(self._fresh(self.path(key)))

    @_remote_errors
    def read_bytes(self, key: str) -> bytes:
        if self.is_local:
            with open(self.path(key), "rb") as f:
                return f.read()
        return self.fs.cat_file(self.path(key))

    def _fresh(self, path: str) -> str:
        """``path``, with any listing an object-store client cached for it dropped: other processes write too."""
        if not self.is_local:
            self.fs.invalidate_cache(path)
        return path

    @_remote_errors
    def list(self, key: str) -> list[str]:
        """Names directly under ``key`` (empty when it does not exist)."""
        if self.is_local:
            return sorted(self._local_stats(key))
        try:
            entries = self.fs.ls(self._fresh(self.path(key)), detail=False)
        except FileNotFoundError:
            return []
        return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries)

    @_remote_errors
    def list_stamped(self, key: str) -> dict[str, str]:
        """Names directly under ``key`` with a stamp (size and modification time or ETag) that changes when
        the object is rewritten: how the index notices a manifest replaced behind its back."""
        if self.is_local:
            return {name: f"{st.st_size}:{st.st_mtime}" for name, st in self._local_stats(key).items()}
        try:
            entries = self.fs.ls(self._fresh(self.path(key)), detail=True)
        except FileNotFoundError:
            return {}
        out = {}
        for e in entries:
            when = e.get("mtime") or e.get("ETag") or e.get("LastModified") or ""
            out[e["name"].rstrip("/").rsplit("/", 1)[-1]] = f"{e.get('size')}:{when}"
        return out

    def _local_stats(self, key: str) -> dict[str, os.stat_result]:
        """The entries directly under ``key`` on a local disk and their ``os.stat`` (a file: itself)."""
        path = self.path(key)
        try:
            names = os.listdir(path)
        except NotADirectoryError:
            names, path = [os.path.basename(path)], os.path.dirname(path)
        except FileNotFoundError:
            return {}
        out = {}
        for name in names:
            with contextlib.suppress(FileNotFoundError):  # removed since the listing
                out[name] = os.stat(os.path.join(path, name))
        return out

    @_remote_errors
    def walk(self, key: str) -> list[tuple[str, int, float]]:
        """Every file under ``key``, recursively: (key, bytes, modification time as a Unix timestamp)."""
        base = self.path(key)
        try:
            found = self.fs.find(self._fresh(base), detail=True)
        except FileNotFoundError:
            return []
        out = []
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            when = info.get("mtime")
            if when is None and info.get("LastModified") is not None:
                when = info["LastModified"].timestamp()
            rel = path.rstrip("/")[len(self.root) + 1:] if path.startswith(self.root + "/") else path
            out.append((rel, int(info.get("size") or 0), float(when or 0.0)))
        return sorted(out)

    @_remote_errors
    def delete(self, key: str) -> None:
        """Remove one file (missing is fine); on a local disk also the folders it leaves empty."""
        try:
            self.fs.rm_file(self.path(key))
        except FileNotFoundError:
            return
        if self.is_local:
            folder = os.path.dirname(self.path(key))
            while folder.startswith(self.root + os.sep):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)

    @_remote_errors
    def put_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` whole: readers see the old object or the new one, never a part."""
        if self.is_local:
            target = self.path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        else:
            self.fs.pipe_file(self.path(key), data)

    @_remote_errors
    def put_if_absent(self, key: str, data: bytes) -> None:
        """Write ``data`` at ``key`` only when nothing is there; raise AlreadyExists otherwise."""
        if self.is_local:
            target = self.path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.link(tmp, target)  # fails when target exists: the atomic claim
            except FileExistsError:
                raise AlreadyExists(key) from None
            finally:
                os.unlink(tmp)
            return
        try:
            self.fs.pipe_file(self.path(key), data, mode="create")
        except (FileExistsError, OSError) as exc:
            if isinstance(exc, FileExistsError) or "PreconditionFailed" in str(exc) or "412" in str(exc):
                raise AlreadyExists(key) from None
            raise

    @_remote_errors
    def put_file(self, local: str | Path, key: str) -> None:
        if self.is_local:
            target = self.path(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            tmp = target + ".tmp"
            try:
                os.link(local, tmp)  # same disk: no copy; the run output is never modified afterwards
            except OSError:
                self.fs.put_file(str(local), tmp)
            os.replace(tmp, target)
        else:
            self.fs.put_file(str(local), self.path(key))

    @_remote_errors
    def get_file(self, key: str, local: str | Path) -> None:
        self.fs.get_file(self.path(key), str(local))

    @_remote_errors
    def bucket_exists(self) -> bool:
        """Whether an object store's bucket (the root's first part) exists; a local root: whether it does."""
        if self.is_local:
            return os.path.isdir(self.root)
        return bool(self.fs.exists(self.root.split("/", 1)[0]))

    def local_path(self, key: str) -> str | None:
        return self.path(key) if self.is_local else None


TIMEOUT_ENV = "GRISTMILL_S3_TIMEOUT"  # seconds an object store may take to answer one request


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise UsageError(f"{name}={text!r}: give a number of seconds above 0")
    return value


def _storage_options(protocol: str) -> dict:
    """Endpoint settings from the environment, so a local S3-compatible server (MinIO, moto) works."""
    if protocol in ("s3", "s3a"):
        endpoint = os.environ.get("GRISTMILL_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
        # a server that stops answering fails a command within minutes, not never
        read = _seconds(TIMEOUT_ENV, 120.0)
        timeouts = {"config_kwargs": {"connect_timeout": min(10.0, read), "read_timeout": read}}
        return {**timeouts, "client_kwargs": {"endpoint_url": endpoint}} if endpoint else timeouts
    return {}
