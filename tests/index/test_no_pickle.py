"""Nothing in an index folder is executed when vnsearch reads it (index format 3).

A pickle whose ``__reduce__`` creates a marker file is planted in every file of an index,
and in every component of its compound segments (also with the checksums rewritten to
match, as an attacker would): opening, searching, verifying and merging never create the
marker, and the user gets :class:`~vnsearch.IndexCorrupted` naming the file. And no
``pickle`` function runs while an index is written, opened, searched, merged, optimized
or verified.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import pickle
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage, RamStorage

import vnsearch
from tests.helpers import WORD, two_segments
from vnsearch import Index, IndexCorrupted
from vnsearch.cli import main
from vnsearch.index.checksums import write_checksums
from vnsearch.index.codec import VnCodec, VnSegment
from vnsearch.index.compound import HEAD, read_directory, write_compound

HOURS_7 = datetime.timedelta(hours=7)


class _Plant:
    """Unpickled, it runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(str(self.marker))}",))


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, bytes, Path]:
    """``(index folder, pickle payload, marker)``: a pristine index of two segments with a
    deleted document, and a live payload (unpickling it does create the marker)."""
    path = two_segments(tmp_path / "pristine")
    with Index.open(path) as ix, ix.writer(jobs=1) as w:
        w.delete("0-3")
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Plant(marker), protocol=2)
    pickle.loads(payload)
    assert marker.exists()
    marker.unlink()
    return path, payload, marker


def _copy(pristine: Path, tmp_path: Path) -> Path:
    case = tmp_path / "case"
    shutil.rmtree(case, ignore_errors=True)
    shutil.copytree(pristine, case)
    return case


def _library(path: Path) -> None:
    """Open, search (hits' stored fields read), verify, merge: what reads an index."""
    with Index.open(path) as ix:
        hits = ix.search(WORD, limit=100)
        assert hits.total == 39 and all(hit.fields["body"] for hit in hits)
        ix.verify()
        ix.optimize()
        assert ix.search(WORD, limit=100).total == 39


def _cli(capsys, path: Path) -> list[tuple[int, str]]:
    """``vnsearch info``, ``query`` and ``verify`` in this process: (exit code, stderr)."""
    out = []
    for command in (["info"], ["query", WORD, "-n", "50"], ["verify"]):
        capsys.readouterr()
        code = main([*command, "--index", str(path)])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        out.append((code, err))
    return out


def _refused(capsys, path: Path, name: str, marker: Path, opening: bool = True) -> None:
    """Library and command line: IndexCorrupted (exit 3, one line) naming ``name``; from
    every command if opening the index reads the file, else (stored fields) from
    ``query``, which reads them, and maybe from the others."""
    with pytest.raises(IndexCorrupted, match=name.replace(".", r"\.")):
        _library(path)
    for (code, err), command in zip(_cli(capsys, path), ("info", "query", "verify")):
        if code == 0 and not opening and command != "query":
            continue
        assert code == 3 and name in err and len(err.strip().splitlines()) == 1, err
    assert not marker.exists()


def _segment_of(seg: Path) -> VnSegment:
    return VnSegment(VnCodec(), "MAIN", segid=seg.stem.split("_", 1)[1])


def _components(seg: Path) -> dict[str, bytes]:
    data = seg.read_bytes()
    return {n: data[a : a + k] for n, (a, k) in read_directory(data, seg.name, seg.stem).items()}


def _rewrite(seg: Path, parts: dict[str, bytes]) -> None:
    """Write ``seg`` anew from ``parts``, and its checksums to match (as an attacker would)."""
    ram = RamStorage()
    ram.files.update(parts)
    out = RamStorage()
    write_compound(out.create_file("x"), ram, list(parts))
    seg.write_bytes(out.files["x"])
    write_checksums(FileStorage(str(seg.parent)), _segment_of(seg))


def test_a_pickle_planted_in_any_file_runs_nothing_and_is_named(planted, tmp_path, capsys):
    pristine, payload, marker = planted
    names = sorted(p.name for p in pristine.iterdir())
    assert {Path(n).suffix for n in names} >= {".json", ".toc", ".seg", ".sum"}
    for name in names:
        original = (pristine / name).read_bytes()
        for bad in (payload + original[len(payload) :], payload):  # at the start; wholly
            path = _copy(pristine, tmp_path)
            (path / name).write_bytes(bad)
            if name.endswith("WRITELOCK"):  # the lock file: its bytes are never read
                _library(path)
                assert [code for code, _ in _cli(capsys, path)] == [0, 0, 0]
                assert not marker.exists()
            else:
                _refused(capsys, path, name, marker)


def test_a_pickle_planted_in_any_segment_component_runs_nothing(planted, tmp_path, capsys):
    """Inside the compound file, with the checksums rewritten to match: the stored fields
    and the field lengths are refused by their own readers, a pickled directory by the
    compound file's; a pickle among raw arrays (postings, dictionary, columns) is data at
    worst (no checksum tells bytes an attacker summed), never code."""
    pristine, payload, marker = planted
    segname = sorted(p.name for p in pristine.glob("*.seg"))[0]
    parts = _components(pristine / segname)
    assert {n.rsplit(".", 1)[-1] for n in parts} >= {"vns", "vnl", "vnp", "vnt", "col"}
    for name in sorted(parts):
        for bad in (payload + parts[name][len(payload) :], payload):
            path = _copy(pristine, tmp_path)
            _rewrite(path / segname, {**parts, name: bad})
            if name.rsplit(".", 1)[-1] in ("vns", "vnl"):
                _refused(capsys, path, name, marker, opening=name.endswith(".vnl"))
                continue
            # bytes summed by whoever wrote them read as data: results, or damage named
            with contextlib.suppress(vnsearch.IndexCorrupted):
                _library(path)
            assert all(code in (0, 3) for code, _ in _cli(capsys, path))
            assert not marker.exists()
    # the directory itself a pickle (as Whoosh's was), the head pointing at it
    path = _copy(pristine, tmp_path)
    seg = path / segname
    data = seg.read_bytes()
    body = data[: HEAD.unpack_from(data)[0]]
    seg.write_bytes(HEAD.pack(len(body), len(payload)) + body[HEAD.size :] + payload)
    write_checksums(FileStorage(str(path)), _segment_of(seg))
    _refused(capsys, path, segname, marker)


def test_a_pickle_behind_the_table_of_contents_magic_is_refused(planted, tmp_path, capsys):
    pristine, payload, marker = planted
    path = _copy(pristine, tmp_path)
    (toc,) = path.glob("_MAIN_*.toc")
    toc.write_bytes(b"VNT3" + payload)
    _refused(capsys, path, toc.name, marker)


_PICKLE_NAMES = ("loads", "load", "Unpickler", "_loads", "_load", "_Unpickler")


def _forbid_pickle(monkeypatch) -> list[str]:
    """Make every reference to pickle's loaders, in every loaded module (Whoosh keeps its
    own names for them), raise; returns where calls were made."""
    calls: list[str] = []
    originals = {id(getattr(pickle, n)) for n in _PICKLE_NAMES if hasattr(pickle, n)}
    import _pickle

    originals |= {id(getattr(_pickle, n)) for n in ("loads", "load", "Unpickler")}

    def forbidden(*args, **kwargs):
        calls.append(repr(args)[:80])
        raise AssertionError("pickle called on index bytes")

    for module in list(sys.modules.values()):
        for attr, value in list(getattr(module, "__dict__", {}).items()):
            if id(value) in originals and callable(value):
                monkeypatch.setattr(module, attr, forbidden)
    return calls


def test_no_pickle_loader_runs_writing_reading_merging_or_verifying(tmp_path, monkeypatch):
    path = two_segments(tmp_path)  # the analyzer's models load before pickle is forbidden
    calls = _forbid_pickle(monkeypatch)
    with Index.open(path) as ix:
        with ix.writer(jobs=1) as w:
            w.add({"id": "new", "body": f"{WORD} mới"})
            w.delete("0-1")
        assert ix.search(WORD, limit=100).total == 40
        hit = ix.search("ha noi", limit=1)[0]
        assert hit.fields["body"] and hit.snippet("body")
        assert ix.verify()["unchecked_segments"] == 0
        ix.optimize()
        assert ix.stats().segments == 1 and ix.search(WORD, limit=100).total == 40
    with Index.open(path) as ix:
        assert ix.search(WORD, limit=100).total == 40
    assert calls == []
    assert vnsearch.index.FORMAT_VERSION == 6  # format 3's design, stored fields per document


def test_stored_values_come_back_with_their_types_and_others_are_refused():
    when = datetime.datetime(2020, 1, 3, 8, 30, 1, 5, tzinfo=datetime.timezone(HOURS_7))
    note = {"$datetime": "x", "t": (1, 2.5, None), "b": b"\x00\xff", "d": datetime.date(2020, 1, 3)}
    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        when=vnsearch.DATETIME(stored=True),
        note=vnsearch.STORED(),
    )
    ix = Index.in_memory(schema)
    with ix.writer(jobs=1) as w:
        w.add({"id": "1", "when": when, "note": note})
        w.add({"id": "2", "note": [float("inf"), -0.0, True, "\ud800", 2**70]})
        with pytest.raises(vnsearch.DocumentError, match=r"'note'.*set"):
            w.add({"id": "3", "note": {1, 2}})
    snap = ix.snapshot()
    first = snap.stored_fields(0)
    assert first == {"id": "1", "when": when, "note": note}
    assert type(first["note"]["t"]) is tuple and first["when"].utcoffset() == HOURS_7
    assert repr(snap.stored_fields(1)["note"]) == repr([float("inf"), -0.0, True, "\ud800", 2**70])
