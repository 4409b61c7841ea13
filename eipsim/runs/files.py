"""The one home for writing files safely: atomic writes, temporary folders, folder locks.

Runs (``eipsim.runs``) and sweeps (``eipsim.experiments``) both write through these, so
both keep the same promises (docs/GUARANTEES.md):

- a file appears complete or not at all (written to a temporary name, then renamed);
- nothing is created with permissions narrower than the umask asks for (``tempfile``
  would make folders 0700 and files 0600, which a research group sharing results on a
  cluster cannot read);
- a folder being written is held by an OS lock (``fcntl.flock``), released by the kernel
  when the process exits or dies, so a second writer is refused and leftovers of a killed
  writer can be told apart from work in progress.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eipsim.errors import UserError

TMP_SUFFIX = ".tmp"
LOCK_NAME = ".lock"


def _tmp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(4)}{TMP_SUFFIX}"


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``.

    ``fsync`` makes the bytes durable before the rename, so a power cut cannot leave an
    empty file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.with_name(_tmp_name(path.name))
        try:  # 0o666 & ~umask, as an ordinary open() would give
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str, fsync: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), fsync)


def json_text(obj: Any) -> str:
    """Strict JSON (no NaN/Infinity, which other JSON readers refuse): non-finite
    numbers become null."""
    return json.dumps(_finite(obj), indent=2, default=str, allow_nan=False) + "\n"


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        with contextlib.suppress(Exception):
            return _finite(obj.item())
    return obj


def atomic_write_json(path: Path, obj: Any, fsync: bool = True) -> None:
    atomic_write_bytes(path, json_text(obj).encode("utf-8"), fsync)


def make_temp_dir(parent: Path, name: str) -> Path:
    """A new hidden folder ``.NAME.XXXXXXXX.tmp`` in ``parent`` with umask permissions."""
    while True:
        tmp = Path(parent) / _tmp_name(name)
        try:
            os.mkdir(tmp)  # 0o777 & ~umask
            return tmp
        except FileExistsError:  # pragma: no cover
            continue


# -- locks ---------------------------------------------------------------------------------


class FolderLock:
    """An exclusive ``fcntl.flock`` on ``FOLDER/.lock``, naming its holder inside.

    The kernel drops the lock when the holder's process ends, however it ends (exit,
    Ctrl-C, ``kill -9``, out-of-memory), so a stale lock file never blocks anyone.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, what: str = "") -> bool:
        """Take the lock without waiting; False when another process holds it."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "what": what or " ".join(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        return True

    def acquire(self, what: str = "") -> None:
        """Take the lock or refuse with a UserError naming the holder."""
        if not self.try_acquire(what):
            raise UserError(
                f"{self.path.parent} is being written by another eipsim process "
                f"({describe_holder(self.path)}); wait for it to finish or stop it, "
                "or choose another --out folder"
            )

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def describe_holder(lock_path: Path) -> str:
    """'pid 123 on host h since 2026-...' from a lock file (best effort)."""
    for _ in range(5):  # the holder writes its name right after locking
        try:
            info = json.loads(Path(lock_path).read_text() or "{}")
        except (OSError, ValueError):
            info = {}
        if isinstance(info, dict) and info.get("pid"):
            return (
                f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started')}"
            )
        time.sleep(0.05)
    return "holder unknown"


def is_locked(folder: Path) -> bool:
    """True while a live process holds ``FOLDER/.lock``."""
    import fcntl

    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


# -- a run's output folder -----------------------------------------------------------------

# our temporary folders, .NAME.1a2b3c4d.tmp (and .NAME.tmp-abcd1234 of eipsim <= 0.1)
_TEMP_DIR = re.compile(r"^\.(.+)\.[0-9a-f]{8}\.tmp$")
_OLD_TEMP_DIR = re.compile(r"^\.(.+)\.tmp-[a-z0-9_]{8}$")
STALE_UNLOCKED_S = 60.0  # a temp folder without a lock, untouched this long, is abandoned


def leftover_temp_dirs(parent: Path, name: str | None = None) -> list[Path]:
    """Hidden temporary folders of interrupted writers in ``parent`` (``name``: only those
    of that target). A folder still locked by a live process is not a leftover."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    out = []
    now = time.time()
    for d in parent.iterdir():
        m = _TEMP_DIR.match(d.name) or _OLD_TEMP_DIR.match(d.name)
        if m is None or (name is not None and m.group(1) != name):
            continue
        try:
            if not d.is_dir() or d.is_symlink():
                continue
            if (d / LOCK_NAME).exists():
                if not is_locked(d):
                    out.append(d)
            elif now - d.stat().st_mtime > STALE_UNLOCKED_S:
                out.append(d)
        except OSError:
            continue
    return out


def clean_leftovers(parent: Path) -> list[str]:
    """Remove leftover temporary folders of killed runs in ``parent``; notes for the user."""
    notes = []
    for d in leftover_temp_dirs(parent):
        try:
            shutil.rmtree(d)
            notes.append(f"removed {d}, the unfinished output of an interrupted run")
        except OSError as err:
            notes.append(f"could not remove {d}, left by an interrupted run ({err.strerror})")
    return notes


def check_out_dir(out: Path, what: str = "--out") -> Path:
    """Check an output folder before any work starts: the run must be able to create it.

    Returns the folder as given (relative paths stay relative in messages). Refuses an
    existing file, a non-empty folder, a parent that is a file, and a parent that is not
    writable, each with one line naming the path.
    """
    text = str(out)
    if not text.strip():
        raise UserError(f"{what} is empty; give a folder name")
    out = Path(out)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise UserError(f"{out}: {what} names an existing file; give a folder")
        try:
            if any(out.iterdir()):
                raise UserError(
                    f"{out}: output folder exists and is not empty; choose another {what}"
                )
        except PermissionError:
            raise UserError(f"{out}: {what} folder cannot be read (permission denied)") from None
    anc = out.absolute().parent
    while not anc.exists():
        if anc.is_symlink():
            raise UserError(f"{anc}: a broken link in the path of {what} {out}")
        anc = anc.parent
    if not anc.is_dir():
        raise UserError(f"{anc}: is a file, so {what} {out} cannot be created under it")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise UserError(f"{anc}: not writable, so {what} {out} cannot be created there")
    return out


def publish_dir(tmp: Path, target: Path) -> bool:
    """Rename a finished temporary folder to ``target`` (absent, or an empty folder) in
    one step. False when another writer put a non-empty folder there first."""
    try:
        if target.exists():
            target.rmdir()  # only an empty folder may be replaced
        os.replace(tmp, target)
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return False
        raise
    return True


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a locked temporary folder beside ``target``; rename it into place only on
    success, so a run never leaves a half-written output folder.

    A run killed before the rename leaves the hidden temporary folder; the next run into
    the same parent removes it (``clean_leftovers``): its lock shows its writer is gone.
    """
    target = Path(target)
    check_out_dir(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{target.parent}: cannot create the folder ({err.strerror})") from None
    tmp = make_temp_dir(target.parent, target.name)
    lock = FolderLock(tmp)
    lock.try_acquire(f"writing {target}")
    try:
        yield tmp
        (tmp / LOCK_NAME).unlink(missing_ok=True)
        if not publish_dir(tmp, target):
            raise UserError(
                f"{target}: another process wrote this folder meanwhile; choose another --out"
            )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        lock.release()
