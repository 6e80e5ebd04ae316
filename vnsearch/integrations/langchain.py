"""A LangChain retriever over a vnsearch index (``pip install 'vnsearch[langchain]'``).

``VnsearchRetriever(index=ix, k=4, search_kwargs={"filter": {"topic": "the-thao"}})``;
``retriever.invoke("ha noi")`` gives ``Document``\\ s in ``Index.search``'s order: each
``page_content`` is the hit's stored ``content_field`` (default: ``body``, else the first
stored TEXT field), its ``metadata`` holds ``id``, ``score`` and the other stored fields.

Without langchain-core this module still imports (tools that import every module keep
working), and ``from vnsearch.integrations.langchain import VnsearchRetriever`` raises an
``ImportError`` that names the extra to install (:data:`MISSING`).
"""

from __future__ import annotations

from typing import Any

import vnsearch
from vnsearch.integrations import hits

__all__ = ["AVAILABLE", "MISSING", "VnsearchRetriever"]

MISSING = "vnsearch.integrations.langchain needs langchain-core: pip install 'vnsearch[langchain]'"

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from pydantic import ConfigDict, Field
except ImportError:  # the optional extra is not installed: said when the retriever is asked for
    AVAILABLE = False
else:
    AVAILABLE = True

    class VnsearchRetriever(BaseRetriever):
        """Retrieve the top ``k`` documents of a :class:`vnsearch.Index` for a query.

        ``search_kwargs`` go to :meth:`vnsearch.Index.search` (``filter``, ``fields``,
        ``sort``, ``ranking``...; not ``limit``: that is ``k``). Queries need no accents
        (``ha noi`` finds ``Hà Nội``).
        """

        model_config = ConfigDict(arbitrary_types_allowed=True)

        index: vnsearch.Index
        k: int = 4
        search_kwargs: dict[str, Any] = Field(default_factory=dict)
        content_field: str | None = None

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            field = hits.content_field(self.index.schema, self.content_field)
            found = hits.retrieve(self.index, query, self.k, self.search_kwargs, field)
            return [
                Document(page_content=text, metadata=metadata, id=doc_id)
                for doc_id, text, metadata, _ in found
            ]


def __getattr__(name: str) -> Any:
    if name == "VnsearchRetriever":  # only reached when langchain-core is missing
        raise ImportError(MISSING)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
