"""The examples and notes each ``--help`` of the ``vnsearch`` command ends with."""

from __future__ import annotations

__all__ = [
    "ANALYZE_EXAMPLES",
    "DELETE_EXAMPLES",
    "EXAMPLES",
    "INDEX_EXAMPLES",
    "INFO_EXAMPLES",
    "OPTIMIZE_EXAMPLES",
    "QUERY_EXAMPLES",
    "SERVE_EXAMPLES",
    "SUGGEST_EXAMPLES",
    "VERIFY_EXAMPLES",
]

EXAMPLES = """\
examples (from a checkout of vnsearch; with no --index, query and info use the bundled
demo documents):
  vnsearch query "tổ chức đảng"                     search, accents optional: "to chuc dang"
  vnsearch query "hội nghị" --field title --limit 3
  vnsearch query "Ban Tổ chức Trung ương" --json
  vnsearch index seeds --index tin-tuc.idx          index a folder of .txt/.md files
  vnsearch index bao.jsonl bao.csv --index tin-tuc.idx --fields title=tieu_de,body=noi_dung
  zcat bao.jsonl.gz | vnsearch index - --index tin-tuc.idx --keyword chu_de
  vnsearch query "thái nguyên" --index tin-tuc.idx --filter chu_de=the-thao --offset 10
  vnsearch delete bai-1 bai-2 --index tin-tuc.idx
  vnsearch suggest "to ch"                          completions as you type: tổ chức
  vnsearch info --index tin-tuc.idx
  vnsearch optimize --index tin-tuc.idx             merge its segments into one
  vnsearch verify --index tin-tuc.idx               check every byte against its checksums
  vnsearch serve --index tin-tuc.idx                a search page: http://127.0.0.1:8000/
  vnsearch analyze "Thủy điện Hòa Bình"             how a text is analyzed
"""

ANALYZE_EXAMPLES = """\
examples:
  vnsearch analyze "Thủy điện Hòa Bình"          the views of a text
  vnsearch analyze "thuy dien hoa binh" --view folded
  vnsearch analyze --file seeds/000_483ea6bfdeb6afd9.txt --json
  vnsearch analyze                               the first bundled seed document
"""

INDEX_EXAMPLES = """\
sources:
  a folder of .txt/.md files    one document a file: title = first line, body = the rest,
                                id = the path inside the folder
  .jsonl / .ndjson (.gz)        one JSON object a line
  .csv (.gz)                    a header row, then one document a row
  -                             JSON Lines (gzipped or not) from standard input
  Columns title and body are TEXT (searched); other columns are stored with the document,
  and those named by --keyword in a new index can filter (vnsearch query --filter).
  A document whose id is already in the index replaces it. All documents are committed
  at the end, together; an unreadable record stops the run with nothing committed,
  unless --skip-errors. Texts are analyzed in --jobs processes (default: one per core);
  the index is the same whatever the number.

examples:
  vnsearch index seeds --index tin-tuc.idx
  vnsearch index bao.jsonl --index tin-tuc.idx --id-field ma_bai \\
      --fields title=tieu_de,body=noi_dung
  vnsearch index bao.csv --index tin-tuc.idx --fields tom_tat --skip-errors
  vnsearch index bao.jsonl.gz --index tin-tuc.idx --jobs 1   one process, no workers
  zcat bao.jsonl.gz | vnsearch index - --index tin-tuc.idx --keyword chu_de --datetime ngay
  VNSEARCH_INDEX=tin-tuc.idx vnsearch index bai-moi/
"""

QUERY_EXAMPLES = """\
query language: words (accents optional), "a phrase", +must, -must_not, field:word, OR.
A query that starts with "-" goes after "--" (the options before it). No query (or "")
lists the documents that pass the filters: by --sort, else in the order they were added.

examples:
  vnsearch query "tổ chức đảng"                  the bundled demo documents
  vnsearch query to chuc dang                    the same, without accents or quotes
  vnsearch query '"Ban Tổ chức Trung ương" +hội nghị' --limit 3
  vnsearch query "hội nghị" --field title --json
  vnsearch query "thai nguyen" --index tin-tuc.idx
  vnsearch query tổ chức --index tin-tuc.idx --filter chu_de=thoi-su --sort -ngay
  vnsearch query tổ chức --index tin-tuc.idx --limit 2 --offset 2   the second page
  vnsearch query --index tin-tuc.idx -- -lạng tổ chức              not "lạng": after --
"""

DELETE_EXAMPLES = """\
Deletes the documents with these ids (the index's unique field) in one commit; prints how
many were found. Exit code 1 when none was.

examples:
  vnsearch delete bai-1 bai-2 --index tin-tuc.idx
"""

SUGGEST_EXAMPLES = """\
Completes the last word (with the word before it, as a pair) from the words the index
holds, most documents first; typed without accents it matches any accents and shows the
index's most frequent spelling, typed with accents only those. A space at the end
completes the next word.

examples:
  vnsearch suggest "to ch"                       the bundled demo documents
  vnsearch suggest "hội " --limit 3
  vnsearch suggest "ha n" --index tin-tuc.idx --json
"""

INFO_EXAMPLES = """\
examples:
  vnsearch info                                  the bundled demo index
  vnsearch info --index tin-tuc.idx --json
"""

VERIFY_EXAMPLES = """\
Opening an index checks the small parts of each segment (lengths, columns, directory);
this reads and checks everything, postings and term dictionaries included (about a second
per GB). Merges check the segments they merge the same way.

examples:
  vnsearch verify --index tin-tuc.idx
  vnsearch verify                                the bundled demo index
"""

OPTIMIZE_EXAMPLES = """\
Each run of "vnsearch index" commits a new segment; once five of about the same size
are there, the run merges them. A search reads every segment. Optimizing rewrites them
all as one and drops deleted (replaced) documents for good; on a large index that takes
minutes. Searches keep working meanwhile; other writers wait for it.

examples:
  vnsearch optimize --index tin-tuc.idx
  VNSEARCH_INDEX=tin-tuc.idx vnsearch optimize
"""

SERVE_EXAMPLES = """\
examples:
  vnsearch serve --index tin-tuc.idx             then open http://127.0.0.1:8000/
  vnsearch serve --port 8080                     the bundled demo documents
  vnsearch serve --index big.idx --cache-mb 2048 keep more decoded postings (default 512)
  curl 'http://127.0.0.1:8000/search?q=ha+noi&limit=5&offset=5'
"""
