"""An artifact folder (the index) written whole or not at all, and checked file by file when it is read.

A build writes beside the target and swaps in only when complete, so a killed
build leaves the previous folder usable; the build folders of dead processes are
removed by the next build or load. Every file's sha256 is recorded when the
folder is built and compared when it is loaded: header damage made a file fail
to parse, but a flipped byte inside the vectors loaded silently and changed
answers.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from assistant.models import file_sha256


def folder_digests(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """sha256 of each named file, and of every file inside each named folder, keyed by path relative to ``folder``."""
    digests: dict[str, str] = {}
    for name in names:
        path = folder / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digests[file.relative_to(folder).as_posix()] = file_sha256(file)
    return digests


def damaged_files(folder: Path, recorded: dict[str, str]) -> list[str]:
    """The recorded files that are missing or whose content no longer matches, as 'name (missing)' or 'name'."""
    damaged = []
    for name, digest in recorded.items():
        path = folder / name
        if not path.is_file():
            damaged.append(f"{name} (missing)")
        elif file_sha256(path) != digest:
            damaged.append(name)
    return damaged


def building_folder(target: Path) -> Path:
    """Where this process writes a new version of ``target`` before swapping it in."""
    return target.with_name(f".{target.name}.building-{os.getpid()}")


def remove_stale_builds(target: Path) -> None:
    """Delete build folders left by killed processes; a build still running keeps its own."""
    for leftover in target.parent.glob(f".{target.name}.building-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def swap_in(built: Path, target: Path, keep_names: Iterable[str]) -> None:
    """Replace ``target`` with ``built``; the old folder stays in place until the new one is complete.

    Files of ``target`` not named in ``keep_names`` and not in ``built`` (a README beside the index) move over.
    """
    owned = set(keep_names)
    previous = target.with_name(f".{target.name}.previous-{os.getpid()}")
    if target.exists():
        for item in target.iterdir():
            if item.name not in owned and not (built / item.name).exists():
                shutil.move(str(item), built / item.name)
        target.rename(previous)
    built.rename(target)
    shutil.rmtree(previous, ignore_errors=True)
