"""Conditions on what a record holds beyond its columns, as SQL over the embedded store's side tables.

Ontology terms (`terms`), population terms (`populations`), alphanumeric values (`vals`, and the id
column for a record's own id) and array elements (the document's JSON); sqlite_translate.py composes
them with the column, link and carrier conditions. `At` says where a condition is translated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from beacon.model.plan import Field, HasElement, HasValue
from beacon.model.populations import TERM_PREFIX
from beacon.store.bulk import ID_PATHS, MAX_TEXT
from beacon.store.sqlite_schema import COLUMNS

Params = list[object]
SQL_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class At:
    """Where a condition is translated: the parameters so far, the records alias, the datasets searched.

    The query's records are `r`; the source records of a `Related` are `s1` (`s2` inside another…).
    """

    params: Params
    datasets: tuple[str, ...]
    alias: str = "r"
    depth: int = 0
    collection: str = field(default="")
    # The collections whose records hold carrier sets, when the store told (else every lookup keeps its
    # set branches, each guarded by the store's own list in meta).
    sets: frozenset[str] | None = None

    def holds_sets(self, collection: str) -> bool:
        return self.sets is None or collection in self.sets

    def column(self, f: Field) -> str:
        return f"{self.alias}.{COLUMNS[f].partition('.')[2]}"

    def inside(self, collection: str) -> At:
        """The same parameters for the records of a sub-select over `collection`."""
        return At(self.params, self.datasets, f"s{self.depth + 1}", self.depth + 1, collection, self.sets)


TERM_RIDS = "SELECT t.rid FROM terms t WHERE t.term IN (SELECT value FROM json_each(?))"
_PREFIX_LENGTH = len(TERM_PREFIX)


def populations_in(terms: tuple[str, ...]) -> list[str]:
    """The population names of the `population:<name>` terms among `terms` (held by `populations`, not `terms`)."""
    return [t[_PREFIX_LENGTH:] for t in terms if t.startswith(TERM_PREFIX)]


def term_sql(terms: tuple[str, ...], at: At) -> str:
    """Records carrying one of `terms`: ontology terms from `terms`, population terms from `populations`.

    A population test reads the record's one `populations` row by rowid: a population filter mostly
    narrows a position range, whose few records are met without gathering every variant of the population.
    """
    names = populations_in(terms)
    others = [t for t in terms if not t.startswith(TERM_PREFIX)]
    parts = []
    if others or not names:
        at.params.append(json.dumps(others))
        parts.append(f"{at.alias}.rid IN ({TERM_RIDS})")
    if names:
        at.params.append(json.dumps(names))
        p = f"pp{at.depth}"
        parts.append(
            f"EXISTS (SELECT 1 FROM populations {p} JOIN json_each({p}.names) j{p} "
            f"WHERE {p}.rid = {at.alias}.rid AND j{p}.value IN (SELECT value FROM json_each(?)))"
        )
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def value_sql(cond: HasValue, at: At) -> str:
    params, r = at.params, at.alias
    numeric = isinstance(cond.value, int | float)
    column = "v.nval" if numeric else "v.sval"
    own_id = cond.path == ID_PATHS.get(at.collection)
    if own_id and not numeric:
        return _id_sql(cond, at)
    if cond.op == "!=" and own_id:
        # Every record has its id, and the vals row of an id that is also a number (store/bulk.py).
        params.extend([cond.path, cond.value])
        return f"NOT EXISTS (SELECT 1 FROM vals v WHERE v.rid = {r}.rid AND v.path = ? AND {column} = ?)"
    if cond.op == "!=":
        # "not equal" = the record has the field, and none of its values equals the given one.
        params.extend([cond.path, cond.path, cond.value])
        return (
            f"EXISTS (SELECT 1 FROM vals v WHERE v.rid = {r}.rid AND v.path = ?) AND NOT EXISTS "
            f"(SELECT 1 FROM vals v WHERE v.rid = {r}.rid AND v.path = ? AND {column} = ?)"
        )
    if cond.pattern:
        # Only `%` is a wildcard (Beacon filters); `_` and `\` are literal characters.
        pattern = str(cond.value).replace("\\", "\\\\").replace("_", "\\_")
        params.extend([cond.path, pattern])
        return f"{r}.rid IN (SELECT v.rid FROM vals v WHERE v.path = ? AND {column} LIKE ? ESCAPE '\\')"
    params.extend([cond.path, cond.value])
    return f"{r}.rid IN (SELECT v.rid FROM vals v WHERE v.path = ? AND {column} {SQL_OPS[cond.op]} ?)"


def _id_sql(cond: HasValue, at: At) -> str:
    """A text condition on the record's own id field: the id column, which holds what that value's vals row
    held (left out of `vals`, store/bulk.py): every record has exactly that one value there."""
    params, r = at.params, at.alias
    # The id as indexing cut it; substr only past the cut (substr on every id made a pattern scan 1.8x slower).
    cut = f"(CASE WHEN length({r}.id) > {MAX_TEXT} THEN substr({r}.id, 1, {MAX_TEXT}) ELSE {r}.id END)"
    if cond.pattern and cond.op != "!=":
        params.append(str(cond.value).replace("\\", "\\\\").replace("_", "\\_"))
        return f"{cut} LIKE ? ESCAPE '\\'"
    params.append(cond.value)
    if cond.op == "=" and len(str(cond.value)) < MAX_TEXT:
        # Shorter than the cut: equal to the cut id only when equal to the id, so the id index serves it.
        return f"{r}.id = ?"
    return f"{cut} {SQL_OPS[cond.op]} ?"


def _json_path(dotted: str) -> str:
    return "$" + "".join(f'."{part}"' for part in dotted.split("."))


def element_sql(cond: HasElement, at: At) -> str:
    params = at.params
    params.append(_json_path(cond.array))
    tests = []
    for path, op, value in cond.where:
        json_path = _json_path(path)
        if isinstance(value, int | float):
            # SQLite orders any text above any number: compare numbers with numbers only.
            params.append(json_path)
            tests.append("json_type(e.value, ?) IN ('integer', 'real')")
        params.extend([json_path, value])
        tests.append(f"json_extract(e.value, ?) {SQL_OPS[op]} ?")
    return f"EXISTS (SELECT 1 FROM json_each({at.alias}.doc, ?) e WHERE {' AND '.join(tests)})"
