"""What a person types in the search box, read once and written for either database.

The syntax is web search's (PostgreSQL's `websearch_to_tsquery`): words must all occur,
`"exact phrase"`, `-word` or `-"phrase"` to exclude, `or` between two alternatives; the last word
is a prefix while it has at least `PREFIX_MIN` characters (search as you type). Anything else
is words: unbalanced quotes close at the end, punctuation, SQL and tsquery operators are only
separators. We read the syntax here rather than in `websearch_to_tsquery` because it has no
prefix matching and SQLite's FTS5 has another syntax; the words themselves are still split by
each database's own parser (`plainto_tsquery`, `phraseto_tsquery`, FTS5's tokenizer), so a
query cannot say anything but words to either database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.models import MAX_QUERY_LENGTH

PREFIX_MIN = 2
# Terms beyond this are ignored (and a hint says so): the query's cost grows with each.
MAX_TERMS = 16
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


class QueryTooLong(ValueError):
    def __init__(self):
        super().__init__(f"A search is at most {MAX_QUERY_LENGTH} characters long.")


@dataclass(frozen=True)
class Term:
    text: str  # as typed, quotes and a leading minus removed
    words: tuple[str, ...]  # its words (\w runs), what FTS5 and the highlighting see
    phrase: bool = False
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    # Every clause must match; a clause matches when one of its terms does (`or`).
    clauses: tuple[tuple[Term, ...], ...]
    hints: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Nothing to look for: no clause with a term that must match."""
        return not any(not term.negated for clause in self.clauses for term in clause)

    def with_hint(self, hint: str) -> Query:
        return Query(clauses=self.clauses, hints=(*self.hints, hint))

    @property
    def positive_words(self) -> tuple[str, ...]:
        return tuple(w for clause in self.clauses for term in clause if not term.negated for w in term.words)

    @property
    def phrase_words(self) -> str | None:
        """The words of a query of plain words only, for the bonus of finding them side by side."""
        terms = [term for clause in self.clauses for term in clause]
        if len(terms) < 2 or any(len(clause) > 1 for clause in self.clauses) or any(
            term.phrase or term.negated for term in terms
        ):
            return None
        return " ".join(term.text for term in terms)


def parse(q: str) -> Query:
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryTooLong
    q = q.replace("\x00", " ")
    terms: list[Term | str] = []  # "or" between terms, kept as the string
    for match in _TOKEN.finditer(q):
        minus, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            terms.append("or")
            continue
        negated = bool(minus) or (bare is not None and bare.startswith("-") and len(bare) > 1)
        text = quoted if bare is None else bare.removeprefix("-") if negated else bare
        words = tuple(_WORD.findall(text))
        if words:
            terms.append(Term(text=text, words=words, phrase=bare is None or len(words) > 1, negated=negated))
    hints = []
    if sum(isinstance(t, Term) for t in terms) > MAX_TERMS:
        hints.append(f"Only the first {MAX_TERMS} words were searched.")
        kept, count = [], 0
        for t in terms:
            count += isinstance(t, Term)
            if count > MAX_TERMS:
                break
            kept.append(t)
        terms = kept
    last = next((t for t in reversed(terms) if isinstance(t, Term)), None)
    if (last is not None and not last.phrase and not last.negated and len(last.text) >= PREFIX_MIN
            and _WORD.fullmatch(last.text) and not q.endswith((" ", '"'))):
        terms[len(terms) - 1 - terms[::-1].index(last)] = Term(text=last.text, words=last.words, prefix=True)
    clauses: list[list[Term]] = []
    joining = False
    for t in terms:
        if t == "or":
            joining = bool(clauses)
            continue
        if joining and not t.negated and not clauses[-1][0].negated:
            clauses[-1].append(t)
        else:
            clauses.append([t])
        joining = False
    query = Query(clauses=tuple(tuple(c) for c in clauses), hints=tuple(hints))
    if query.empty:
        hint = ("Type a word to search for." if not q.strip() else
                "Nothing to search for: add a word that must appear." if query.clauses else
                "Nothing to search for: use letters or digits.")
        return Query(clauses=(), hints=(*hints, hint))
    return query


# ----------------------------------------------------------------------------- PostgreSQL
def postgres_tsquery(query: Query, configs: tuple[str, ...]) -> tuple[str, list]:
    """An SQL expression of type tsquery for `query` and its parameters; each term matches its
    words as written or stemmed (one alternative per configuration)."""
    sql, params = [], []
    for clause in query.clauses:
        alternatives = []
        for term in clause:
            parts = []
            for config in configs:
                if term.prefix:  # a single \w+ word: nothing in it can be read as tsquery syntax
                    parts.append(f"to_tsquery('{config}', %s)")
                    params.append(f"'{term.text}':*")
                else:
                    parts.append(f"{'phraseto_tsquery' if term.phrase else 'plainto_tsquery'}('{config}', %s)")
                    params.append(term.text)
            expression = "(" + " || ".join(parts) + ")"
            alternatives.append(f"!!{expression}" if term.negated else expression)
        sql.append("(" + " || ".join(alternatives) + ")")
    return " && ".join(sql), params


def postgres_phrase(query: Query, configs: tuple[str, ...]) -> tuple[str, list]:
    words = query.phrase_words
    if words is None:
        return "''::tsquery", []
    return "(" + " || ".join(f"phraseto_tsquery('{config}', %s)" for config in configs) + ")", [words] * len(configs)


# ----------------------------------------------------------------------------- SQLite FTS5
def _fts_string(term: Term) -> str:
    # Words are \w runs: no double quote inside one to escape.
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression for `query` (FTS5's NOT is binary: exclusions follow the rest)."""
    positive, negative = [], []
    for clause in query.clauses:
        if clause[0].negated:
            negative.append(_fts_string(clause[0]))
        else:
            positive.append("(" + " OR ".join(_fts_string(term) for term in clause) + ")")
    return " AND ".join(positive) + "".join(f" NOT {n}" for n in negative)


def fts5_phrase(query: Query) -> str | None:
    words = query.phrase_words
    return None if words is None else '"' + " ".join(_WORD.findall(words)) + '"'
