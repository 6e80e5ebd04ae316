"""Which documents come with vnsearch? Five short Vietnamese news texts, bundled in the
package (``seeds/`` in a source checkout) for examples, tests and ``vnsearch query``'s demo
index: readable from any folder.

>>> docs = seed_documents()
>>> len(docs), sorted(docs[0])
(5, ['body', 'id', 'title'])
>>> docs[1]["title"]
'Tổng kết công tác tổ chức xây dựng Đảng năm 2020'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["seed_documents", "seeds_dir"]


def seeds_dir() -> Path:
    """The folder of the bundled seed documents (inside the installed package, or the
    source checkout's ``seeds/``); ``FileNotFoundError`` if an installation lost it."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "seeds", package.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the bundled seeds/ folder is missing from this installation")


def seed_documents() -> list[dict[str, str]]:
    """The bundled seed documents, by file name: ``{"id", "title", "body"}`` each (the id
    the file's name without ``.txt``, the title its first line, the body the rest)."""
    docs = []
    for path in sorted(seeds_dir().glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        docs.append({"id": path.stem, "title": title, "body": body})
    return docs
