"""Retrievers for LLM frameworks, each in an optional extra: never imported by ``vnsearch``.

- :mod:`vnsearch.integrations.langchain` (``pip install 'vnsearch[langchain]'``): a
  LangChain ``BaseRetriever`` giving ``Document``\\ s.
- :mod:`vnsearch.integrations.llamaindex` (``pip install 'vnsearch[llamaindex]'``): a
  LlamaIndex ``BaseRetriever`` giving ``NodeWithScore``\\ s.

Both sit on top of the public API (``vnsearch.Index.search``) and share
:mod:`vnsearch.integrations.hits`: which field is the text, and what goes in the metadata.
"""
