"""What a question costs in the genotype budget: the alleles it tests, whatever form it takes.

Membership inference needs many allele questions about one genome, and any of the beacon's forms can
ask one: variant request parameters on any entry type (or on `/datasets`), filters on variant fields
(scoped to, or aimed at, an entry type whose records are alleles), a variant's id in the path
(`/g_variants/{id}`, 200 or 404) and lookups into or out of variants. Each such part costs one.
"""

from __future__ import annotations

from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.model.request import BeaconRequest
from beacon.query.populations import is_population_filter


def genotype_cost(
    request: BeaconRequest, entry: EntryType, target: EntryType, record_id: str | None, table: EntryTypeTable
) -> int:
    """Alleles tested by asking `request` of `target` (through `entry`'s path, with `record_id` when given)."""
    cost = 0 if request.variant.is_empty() else 1
    scopes = table.by_scope()
    for f in (*request.filters, *(f for g in request.filter_groups for f in g.filters)):
        if is_population_filter(f):
            cost += 1  # a condition on variants (their frequencies), whatever the entry type asked
            continue
        scoped = scopes.get(f.scope, target) if f.scope else target
        cost += scoped.holds_variants
    if record_id is not None and (entry.holds_variants or target.holds_variants):
        cost += 1
    # A bare question about alleles (all variants, a page of them) still reads genotypes.
    return max(cost, int(target.holds_variants))
