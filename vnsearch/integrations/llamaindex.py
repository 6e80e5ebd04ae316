"""A LlamaIndex retriever over a vnsearch index (``pip install 'vnsearch[llamaindex]'``).

``VnsearchRetriever(ix, k=4, search_kwargs={"filter": {"topic": "the-thao"}})``;
``retriever.retrieve("ha noi")`` gives ``NodeWithScore``\\ s in ``Index.search``'s order,
each a ``TextNode`` (``text``: the hit's stored ``content_field``, default ``body``, else
the first stored TEXT field; ``id_``: the document's id; ``metadata``: ``id``, ``score``
and the other stored fields) with the hit's score.

Without llama-index-core this module still imports, and ``from
vnsearch.integrations.llamaindex import VnsearchRetriever`` raises an ``ImportError`` that
names the extra to install (:data:`MISSING`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import vnsearch
from vnsearch.integrations import hits

__all__ = ["AVAILABLE", "MISSING", "VnsearchRetriever"]

MISSING = (
    "vnsearch.integrations.llamaindex needs llama-index-core: pip install 'vnsearch[llamaindex]'"
)

try:
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError:  # the optional extra is not installed: said when the retriever is asked for
    AVAILABLE = False
else:
    AVAILABLE = True

    class VnsearchRetriever(BaseRetriever):
        """Retrieve the top ``k`` documents of a :class:`vnsearch.Index` for a query.

        ``search_kwargs`` go to :meth:`vnsearch.Index.search` (``filter``, ``fields``,
        ``sort``...; not ``limit``: that is ``k``). Queries need no accents.
        """

        def __init__(
            self,
            index: vnsearch.Index,
            k: int = 4,
            search_kwargs: Mapping[str, Any] | None = None,
            content_field: str | None = None,
            callback_manager: CallbackManager | None = None,
        ) -> None:
            self.index = index
            self.k = k
            self.search_kwargs = dict(search_kwargs or {})
            hits.search_options(k, self.search_kwargs)  # a limit refused now, not when used
            self.content_field = hits.content_field(index.schema, content_field)
            super().__init__(callback_manager=callback_manager)

        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            found = hits.retrieve(
                self.index, query_bundle.query_str, self.k, self.search_kwargs, self.content_field
            )
            return [
                NodeWithScore(node=TextNode(text=text, id_=doc_id, metadata=metadata), score=score)
                for doc_id, text, metadata, score in found
            ]


def __getattr__(name: str) -> Any:
    if name == "VnsearchRetriever":  # only reached when llama-index-core is missing
        raise ImportError(MISSING)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
