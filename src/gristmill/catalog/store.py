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


_NO_ANSWER = {"ConnectionError", "TimeoutError", "ClientConnectionError", "ServerTimeoutError"}


def _no_answer(exc: BaseException) -> bool:
    """Whether a client error means the store never answered (no connection, a timeout), by the exception's
    classes: builtins', botocore's and aiohttp's share these names (EndpointConnectionError, ReadTimeoutError
    and ClientConnectorError derive from one of them)."""
    return any(c.__name__ in _NO_ANSWER for c in type(exc).__mro__)


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
            raise StoreUnreachable(f"catalog root {self.uri}: {type(exc).__name__}: {exc}") from exc

    return wrapper


_CLIENT_MODULES = ("aiobotocore", "botocore", "aiohttp", "s3fs", "fsspec")


class _OrphanedClientTask(logging.Filter):
    """Drops asyncio's "Task exception was never retrieved" for a task of the object-store client: when a
    store stops answering, the client's other requests fail as tasks that nobody awaits any more, and each
    would print its traceback after gristmill's one-line error. Any other asyncio record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "never retrieved" not in record.getMessage() or not record.exc_info or record.exc_info[2] is None:
            return True
        tb = record.exc_info[2]
        while tb is not None:
            if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_CLIENT_MODULES):
                return False
            tb = tb.tb_next
        return True


def _quiet_orphaned_client_tasks() -> None:
    log = logging.getLogger("asyncio")
    if not any(isinstance(f, _OrphanedClientTask) for f in log.filters):
        log.addFilter(_OrphanedClientTask())


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
        _quiet_orphaned_client_tasks()
        try:
            fs = fsspec.filesystem(protocol, **_storage_options(protocol))
        except (ImportError, ValueError) as exc:
            raise UsageError(f"cannot open catalog root {self.uri!r}: {exc} (for s3:// install s3fs)") from None
        return _Deadlines(fs, _seconds(TIMEOUT_ENV, DEFAULT_TIMEOUT)) if getattr(fs, "async_impl", False) else fs

    def path(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    def url(self, key: str) -> str:
        """What another tool opens: a local path, or the object-store URI."""
        return self.path(key) if self.is_local else f"{self.uri.split('://', 1)[0]}://{self.path(key)}"

    def check_writable(self) -> None:
        """Refuse (exit 2) before anything is written when the root cannot take a file (refused, no such
        bucket, no credentials); an object store that does not answer is a runtime failure
        (:class:`StoreUnreachable`, exit 1)."""
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
        except Exception as exc:  # noqa: BLE001 - each object store raises its own kinds
            if _no_answer(exc):  # the store did not answer: a runtime failure, as for any other request
                raise StoreUnreachable(f"catalog root {self.uri}: {type(exc).__name__}: {exc}") from None
            raise UsageError(f"catalog root {self.uri} is not writable: {type(exc).__name__}: {exc}") from None

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
    def get_file(self, key: str, local: str | Path, nbytes: int | None = None) -> None:
        """Download ``key``; ``nbytes``, its size when known, sets an object store's deadline for it."""
        if self.is_local:
            self.fs.get_file(self.path(key), str(local))
        else:
            self.fs.get_file(self.path(key), str(local), nbytes=nbytes)

    @_remote_errors
    def bucket_exists(self) -> bool:
        """Whether an object store's bucket (the root's first part) exists; a local root: whether it does."""
        if self.is_local:
            return os.path.isdir(self.root)
        return bool(self.fs.exists(self.root.split("/", 1)[0]))

    def local_path(self, key: str) -> str | None:
        return self.path(key) if self.is_local else None


TIMEOUT_ENV = "GRISTMILL_S3_TIMEOUT"  # seconds an object store may take to answer one attempt at a request
DEFAULT_TIMEOUT = 30.0
ATTEMPTS_PER_CALL = 5  # how many of those one call of the store may take, retries included
SLOWEST_TRANSFER = 256 * 1024  # bytes per second: a file moving slower than this counts as a hung store


class _Deadlines:
    """An async object-store filesystem whose every call must finish within a deadline.

    The client's own timeouts do not cover everything: a PUT sends ``Expect: 100-continue`` and aiohttp waits
    for the answer with no timeout at all, so a store that takes connections and never answers would hang a
    commit for ever. fsspec runs each call on its event loop and, given ``timeout=``, gives up waiting
    (``FSTimeoutError``): ``ATTEMPTS_PER_CALL`` times the per-attempt timeout, plus time to move a file at
    ``SLOWEST_TRANSFER``."""

    _TIMED = frozenset({"exists", "cat_file", "ls", "find", "rm_file", "pipe_file", "put_file", "get_file", "info"})

    def __init__(self, fs: Any, attempt: float) -> None:
        self._fs, self._attempt = fs, attempt

    def __getattr__(self, name: str) -> Any:
        from fsspec.exceptions import FSTimeoutError

        method = getattr(self._fs, name)
        if name not in self._TIMED:
            return method

        def timed(*args: Any, nbytes: int | None = None, **kwargs: Any) -> Any:
            size = nbytes or 0  # what the call moves, when the caller knows (a download: from the manifest)
            if name == "put_file":
                size = os.path.getsize(args[0])
            elif name == "pipe_file" and len(args) > 1:
                size = len(args[1])
            elif name == "get_file" and nbytes is None:  # not known: one more request to ask
                with contextlib.suppress(Exception):
                    size = int(self._fs.info(args[0], timeout=self._attempt * ATTEMPTS_PER_CALL).get("size") or 0)
            deadline = self._attempt * ATTEMPTS_PER_CALL + size / SLOWEST_TRANSFER
            try:
                return method(*args, timeout=deadline, **kwargs)
            except FSTimeoutError:
                raise TimeoutError(f"no answer to {name} within {deadline:.0f} s ({TIMEOUT_ENV}="
                                   f"{self._attempt:g} s per attempt)") from None

        return timed


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
        # per attempt (the client retries a request that timed out); a whole call has a deadline (_Deadlines)
        read = _seconds(TIMEOUT_ENV, DEFAULT_TIMEOUT)
        timeouts = {"config_kwargs": {"connect_timeout": min(10.0, read), "read_timeout": read}}
        return {**timeouts, "client_kwargs": {"endpoint_url": endpoint}} if endpoint else timeouts
    return {}
