"""Searching the archive: the query language (``query``), its SQL (``plan``), the service."""

from aggregator.search.query import SearchError, SearchQuery, Term, parse
from aggregator.search.service import Context, SearchHit, SearchService
from aggregator.search.snippet import Segment

__all__ = ["Context", "SearchError", "SearchHit", "SearchQuery", "SearchService", "Segment", "Term", "parse"]
