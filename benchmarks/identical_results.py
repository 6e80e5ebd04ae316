"""Did a change that should not change results change any? Dump them, then compare two dumps.

For each of ``bench_query.py``'s benchmark queries on its cached index (and a few more
forms: NFD, old tone style, operators, a field, OR), one JSON line: the query's plan as
data (each clause's occur, scored terms as (field, term, weight in float hex, view, text
field), postings matched, phrases; the full scoring list with bonus terms), the top hits'
ids and document numbers, their scores in float hex, and the total. With ``--viquad``, the
UIT-ViQuAD questions of a split too, as written and without diacritics (top-10 ids, float-hex
scores, totals; MRR@10 printed). Two dumps of the same inputs are byte-identical exactly when
every plan, ranking, score and count is.

Run from the repository root, on this checkout and on another one (a ``git worktree`` of
the commit before the change), then compare::

    python benchmarks/identical_results.py --out /tmp/after.jsonl --viquad
    (cd ../before && python benchmarks/identical_results.py --out /tmp/before.jsonl --viquad)
    cmp /tmp/before.jsonl /tmp/after.jsonl && echo identical

The index and query set must have been built by ``bench_query.py --docs N`` (default
84,132, the whole corpus); ``--index`` and ``--queries`` name others.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import vnsearch  # noqa: E402

EXTRA = [
    "hoà bình",
    "hòa bình",
    unicodedata.normalize("NFD", "Hà Nội"),
    "+bóng -đá",
    'title:"hà nội"',
    "bóng OR đá",
    "thu tuong chinh phu",
    "ai là người",
    "Việt Nam",
    "lí do",
]


def _term(s: Any) -> list[Any]:
    return [s.field, s.term, float(s.weight).hex(), s.view, s.text_field]


def _clause(u: Any) -> dict[str, Any]:
    return {
        "occur": u.occur,
        "scoring": [_term(s) for s in u.scoring],
        "any_of": [list(x) for x in u.any_of],
        "phrases": [[list(t) for t in p] for p in u.phrases],
    }


def plan_of(snap: Any, text: str) -> dict[str, Any]:
    """The plan of ``text`` as data: positive clauses, then ``-must_not`` ones; the scoring
    terms of the positive clauses, then the bonus terms."""
    try:
        from vnsearch.ranking.match import PreparedQuery
        from vnsearch.ranking.plan import plan_search
        from vnsearch.ranking.scoring import DEFAULT_RANKING as R

        q = PreparedQuery(snap, plan_search(snap, text, None, R), None, R)
    except ImportError:  # the layout before the restructure of issue 17 (f47fa39)
        from vnsearch.ranking.bm25 import DEFAULT_RANKING as R  # type: ignore
        from vnsearch.ranking.execute import PreparedQuery  # type: ignore

        q = PreparedQuery(snap, text, None, None, R)
    return {
        "units": [_clause(u) for u in q.positive + q.negative],
        "scoring": [_term(s) for s in q.scoring],
    }


def hits_of(ix: vnsearch.Index, text: str, limit: int) -> dict[str, Any]:
    r = ix.search(text, limit=limit)
    return {
        "ids": [h.id for h in r],
        "docs": [h.docnum for h in r],
        "scores": [float(h.score).hex() for h in r],
        "total": r.total,
    }


def main(argv: list[str] | None = None) -> int:
    import bench_query as B

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file to write")
    parser.add_argument("--docs", type=int, default=84132, help="bench_query.py's --docs")
    parser.add_argument("--seed", type=int, default=42, help="bench_query.py's --seed")
    parser.add_argument("--index", type=Path, help="another vnsearch index folder")
    parser.add_argument("--queries", type=Path, help="another query set (bench_query's JSON)")
    parser.add_argument("--limit", type=int, default=1000, help="at most this many queries")
    parser.add_argument("--viquad", action="store_true", help="also the ViQuAD questions")
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    args = parser.parse_args(argv)

    engine = B.VnsearchEngine
    index = args.index or B.cache_dir(engine, args.docs, B.DEFAULT_CORPUS, engine.options())
    queries = args.queries or B.query_file(args.seed, args.docs)
    if not (Path(index) / "vnsearch.json").is_file() or not Path(queries).is_file():
        print(f"error: no index at {index} or no query set {queries}: run bench_query.py "
              f"--docs {args.docs} first", file=sys.stderr)  # fmt: skip
        return 2
    texts = [q.text for q in B.load_queries(Path(queries))][: args.limit]
    with args.out.open("w", encoding="utf-8") as out, vnsearch.Index.open(index) as ix:
        snap = ix.snapshot()
        for text in texts + EXTRA:
            limit = 10 if text not in EXTRA else 20
            record = {"q": text, **hits_of(ix, text, limit), "plan": plan_of(snap, text)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if args.viquad:
            print(f"viquad {args.split} MRR@10: {_viquad(out, args.split):.4f}")
    print(f"wrote {args.out}: {len(texts) + len(EXTRA)} queries")
    return 0


def _viquad(out: Any, split: str) -> float:
    import eval_quality as E

    docs, questions = E.load(E.DEFAULT_DIR, split)
    ix = E.open_vnsearch(docs)
    reciprocal = []
    for q in questions:
        for text in (q.text, E.unaccent(q.text)):
            r = ix.search(text, limit=10)
            ids = [h.id for h in r]
            scores = [float(h.score).hex() for h in r]
            record = {"vq": text, "ids": ids, "scores": scores, "total": r.total}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if text == q.text:
                rank = next((i + 1 for i, d in enumerate(ids) if d in q.relevant), None)
                reciprocal.append(1 / rank if rank else 0.0)
    ix.close()
    return sum(reciprocal) / len(reciprocal)


if __name__ == "__main__":
    raise SystemExit(main())
