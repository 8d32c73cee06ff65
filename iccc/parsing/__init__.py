"""Parsing: the only part of iccc that imports spaCy (lazily, inside functions)."""

from ._dataset import ConceptParser, add_concepts
from ._loader import ParserNotFoundError, load_parser
from ._pipeline import iter_parse, parse
from ._rules import extract

__all__ = ["ConceptParser", "ParserNotFoundError", "add_concepts", "extract", "iter_parse", "load_parser", "parse"]
