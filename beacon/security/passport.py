"""GA4GH Passport evaluation: which datasets the verified visas of one passport grant.

Pure logic over visas whose signatures, issuers and `exp` have already been checked
(`beacon.security.tokens`). It applies the Passport specification (v1.x): a visa counts only when
its object is well formed (`type`, `value`, `source` strings, `asserted` a time not in the
future, `by` for ControlledAccessGrants), when it belongs to the passport's subject (its `sub` is
the access token's, or a LinkedIdentities visa links its `sub`/`iss` to it), and when its
`conditions` hold: a list of lists, OR of AND-clauses, each clause met by another counted visa
without conditions. A visa that fails is ignored and logged; the others still count.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

log = logging.getLogger(__name__)

CONTROLLED_ACCESS_GRANTS = "ControlledAccessGrants"
LINKED_IDENTITIES = "LinkedIdentities"
LEEWAY_S = 30
MAX_VISAS = 100  # per passport; the rest are ignored (and logged)
_MAX_CLAUSES = 32  # per visa's conditions, all branches together
_MAX_MATCHED_CHARS = 255  # the spec's limit on URL fields; longer patterns or values never match
_CLAUSE_FIELDS = frozenset({"value", "source", "by"})  # string fields a clause may test besides `type`

Identity = tuple[str, str]  # (sub, iss): the spec's "Passport Visa Identity"


@dataclass(frozen=True)
class Visa:
    """A visa whose signature, issuer, `exp`, `iat` and `nbf` hold; its object not yet judged."""

    index: int  # position in the passport, for logs
    issuer: str
    subject: str
    fields: Mapping[str, object]  # the ga4gh_visa_v1 object

    @property
    def identity(self) -> Identity:
        return (self.subject, self.issuer)

    @property
    def type(self) -> object:
        return self.fields.get("type")


@dataclass(frozen=True)
class Holdings:
    """What one passport holds for its subject: ControlledAccessGrants values and the other visa types."""

    grants: frozenset[str] = frozenset()
    # Types of visas that hold, neither ControlledAccessGrants nor LinkedIdentities, nor asserted by
    # the subject itself (`by: self`): a dataset may accept a type, e.g. ResearcherStatus.
    types: frozenset[str] = frozenset()


def grants(subject: str, visas: Sequence[Visa], now: float) -> frozenset[str]:
    """The ControlledAccessGrants values of this passport that hold for the access token's `sub`.

    Never raises: every visa that does not hold is logged with its reason and ignored.
    """
    return holdings(subject, visas, now).grants


def holdings(subject: str, visas: Sequence[Visa], now: float) -> Holdings:
    """The grants and visa types of this passport that hold for the access token's `sub`.

    Never raises: every visa that does not hold is logged with its reason and ignored.
    """
    valid = []
    for visa in visas:
        problem = _object_problem(visa.fields, now)
        if problem is None:
            valid.append(visa)
        else:
            _ignore(visa, problem)
    linked = _linked_identities(subject, valid)
    own = []
    for visa in valid:
        if visa.subject == subject or visa.identity in linked:
            own.append(visa)
        else:
            _ignore(visa, "its sub is not the passport's subject and no LinkedIdentities visa links it")
    unconditional = [v for v in own if "conditions" not in v.fields]
    granted, types = set(), set()
    for visa in own:
        if visa.type == LINKED_IDENTITIES:
            continue
        if "conditions" in visa.fields and not conditions_met(visa.fields["conditions"], unconditional):
            _ignore(visa, "its conditions are not met")
            continue
        if visa.type == CONTROLLED_ACCESS_GRANTS:
            granted.add(str(visa.fields["value"]))
        elif visa.fields.get("by") == "self":
            _ignore(visa, f"a self-asserted {visa.type} visa grants nothing")
        else:
            types.add(str(visa.type))
    return Holdings(frozenset(granted), frozenset(types))


def _ignore(visa: Visa, reason: str) -> None:
    log.warning("ignoring visa %d of a passport (issuer %s): %s", visa.index, visa.issuer, reason)


def _object_problem(fields: Mapping[str, object], now: float) -> str | None:
    """Why a visa object is not one the specification allows, or None."""
    for name in ("type", "value", "source"):
        if not isinstance(fields.get(name), str):
            return f"its {name} is not a string"
    if "by" in fields and not isinstance(fields["by"], str):
        return "its by is not a string"
    asserted = fields.get("asserted")
    if not isinstance(asserted, int | float) or isinstance(asserted, bool) or not math.isfinite(asserted):
        return "its asserted is not a time"
    if asserted > now + LEEWAY_S:
        return "it is asserted in the future"
    if fields["type"] == CONTROLLED_ACCESS_GRANTS and "by" not in fields:
        return "a ControlledAccessGrants visa must say by whom"
    return None


def parse_linked_identities(value: str) -> frozenset[Identity] | None:
    """The identities of a LinkedIdentities `value` (`sub,iss;sub,iss`, each part URI-encoded), or None if malformed."""
    identities = set()
    for entry in value.split(";"):
        parts = entry.split(",")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            return None
        identities.add((unquote(parts[0]), unquote(parts[1])))
    return frozenset(identities)


def _linked_identities(subject: str, visas: Sequence[Visa]) -> frozenset[Identity]:
    """Every identity some trusted LinkedIdentities visa ties, directly or by a chain, to `subject`."""
    groups = []
    for visa in visas:
        if visa.type != LINKED_IDENTITIES:
            continue
        if "conditions" in visa.fields:  # evaluating them would need the links being decided
            _ignore(visa, "a LinkedIdentities visa with conditions is not supported")
            continue
        listed = parse_linked_identities(str(visa.fields["value"]))
        if listed is None:
            _ignore(visa, "its LinkedIdentities value is not a list of sub,iss pairs")
            continue
        groups.append(listed | {visa.identity})
    linked: set[Identity] = set()
    grew = True
    while grew:
        grew = False
        for group in groups:
            if not group <= linked and any(i[0] == subject or i in linked for i in group):
                linked |= group
                grew = True
    return frozenset(linked)


def conditions_met(conditions: object, candidates: Sequence[Visa]) -> bool:
    """Whether the `conditions` a visa carries hold, given the counted visas without conditions.

    `[]` is no conditions. Otherwise a list of lists: met when every clause of one inner list is
    met. Anything else (`null` included) and any malformed clause is never met.
    """
    if conditions == []:
        return True
    if not isinstance(conditions, list) or not all(isinstance(b, list) and b for b in conditions):
        return False
    if sum(len(b) for b in conditions) > _MAX_CLAUSES:
        return False
    return any(all(clause_met(c, candidates) for c in branch) for branch in conditions)


def clause_met(clause: object, candidates: Sequence[Visa]) -> bool:
    """Whether one visa among `candidates` matches every field of this condition clause."""
    if not isinstance(clause, dict) or not isinstance(clause.get("type"), str):
        return False
    tests = {k: v for k, v in clause.items() if k != "type"}
    # A clause names a type and at least one other string field of the visa object, never
    # `conditions` or a time such as `asserted`.
    if not tests or not all(k in _CLAUSE_FIELDS and isinstance(v, str) for k, v in tests.items()):
        return False
    return any(
        v.type == clause["type"] and all(field_matches(spec, v.fields.get(k)) for k, spec in tests.items())
        for v in candidates
    )


def field_matches(spec: str, actual: object) -> bool:
    """`const:x` (exact, case-sensitive), `pattern:p` or `split_pattern:p` (on each `;` part); other prefixes fail."""
    if not isinstance(actual, str):
        return False
    prefix, colon, operand = spec.partition(":")
    if not colon:
        return False
    if prefix == "const":
        return actual == operand
    if prefix == "pattern":
        return wildcard_match(operand, actual)
    if prefix == "split_pattern":
        return any(wildcard_match(operand, part) for part in actual.split(";"))
    return False


def wildcard_match(pattern: str, text: str) -> bool:
    """Full-string, case-sensitive match where `?` is any one character and `*` any run (no escapes)."""
    if len(pattern) > _MAX_MATCHED_CHARS or len(text) > _MAX_MATCHED_CHARS:
        return False
    p = t = 0
    star, resume = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p] in ("?", text[t]):
            p, t = p + 1, t + 1
        elif star >= 0:
            # Let the last `*` swallow one more character and retry the rest of the pattern.
            resume += 1
            p, t = star + 1, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
