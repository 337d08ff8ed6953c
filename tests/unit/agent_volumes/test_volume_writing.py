"""The ..data layout and its atomic swaps, on real files in a temporary directory."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from agent.volumes.payloads import FileContent, Payload
from agent.volumes.writing import DATA_LINK, current_payload_dir, write_atomically


def payload(**files: str) -> Payload:
    return {name.replace("__", "/"): FileContent(text.encode()) for name, text in files.items()}


def test_layout(tmp_path: Path) -> None:
    """Keys are links through ..data into one timestamped directory, with their modes."""
    volume = tmp_path / "vol"
    assert write_atomically(volume, {"a": FileContent(b"1", 0o600), "d/b": FileContent(b"2", 0o644)})
    data = current_payload_dir(volume)
    assert data is not None and data.name.startswith("..") and data.parent == volume
    assert os.readlink(volume / DATA_LINK) == data.name
    assert os.readlink(volume / "a") == "..data/a"
    assert os.readlink(volume / "d") == "..data/d"
    assert (volume / "a").read_text() == "1" and (volume / "d" / "b").read_text() == "2"
    assert (data / "a").stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(volume)) == sorted([DATA_LINK, data.name, "a", "d"])


def test_unchanged_payload_writes_nothing(tmp_path: Path) -> None:
    """The same payload again leaves the timestamped directory as it was (no SD wear)."""
    volume = tmp_path / "vol"
    write_atomically(volume, payload(a="1"))
    before = current_payload_dir(volume)
    assert not write_atomically(volume, payload(a="1"))
    assert current_payload_dir(volume) == before


def test_mode_change_is_a_change(tmp_path: Path) -> None:
    """Only a mode differs: the set is rewritten."""
    volume = tmp_path / "vol"
    write_atomically(volume, {"a": FileContent(b"1", 0o644)})
    assert write_atomically(volume, {"a": FileContent(b"1", 0o600)})
    assert (volume / "a").stat().st_mode & 0o777 == 0o600


def test_update_swaps_and_cleans(tmp_path: Path) -> None:
    """An update replaces the set, drops links of removed keys and the old directory."""
    volume = tmp_path / "vol"
    write_atomically(volume, payload(a="1", b="2"))
    old = current_payload_dir(volume)
    assert write_atomically(volume, payload(a="3", c="4"))
    new = current_payload_dir(volume)
    assert new != old and old is not None and not old.exists()
    assert (volume / "a").read_text() == "3" and (volume / "c").read_text() == "4"
    assert not os.path.lexists(volume / "b")
    assert sorted(os.listdir(volume)) == sorted([DATA_LINK, new.name if new else "", "a", "c"])


def test_empty_payload(tmp_path: Path) -> None:
    """An optional, missing source leaves an empty ..data set."""
    volume = tmp_path / "vol"
    write_atomically(volume, payload(a="1"))
    write_atomically(volume, {})
    assert DATA_LINK in os.listdir(volume)
    assert not os.path.lexists(volume / "a")


def test_readers_never_see_a_partial_set(tmp_path: Path) -> None:
    """While updates run, a read through ..data sees one complete, consistent version."""
    volume = tmp_path / "vol"
    write_atomically(volume, payload(a="0", b="0"))
    stop = threading.Event()
    seen: list[tuple[str, str, str]] = []
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                data = volume / os.readlink(volume / DATA_LINK)
                seen.append(((data / "a").read_text(), (data / "b").read_text(), (volume / "a").read_text()))
            except FileNotFoundError:
                continue  # the set was replaced and removed between two reads: read again
            except BaseException as err:  # report anything else to the test thread
                errors.append(err)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for version in range(1, 150):
            write_atomically(volume, payload(a=str(version), b=str(version)))
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert seen
    assert all(a == b and a.isdigit() and c.isdigit() for a, b, c in seen)
