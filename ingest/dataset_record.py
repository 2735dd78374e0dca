"""The dataset record a VCF or phenopacket load brings, so /datasets lists every dataset that answers queries.

A dataset has one dataset record: the part loaded last that brings one wins (beacon/store). A record
a steward wrote (a BFF `datasets.json`, with its description and data-use conditions) must not be
replaced by the few fields a VCF or phenopacket load knows, so these loads bring one only when the
dataset has none, or when the one it has is theirs (made by an earlier load of the same part,
`info.madeBy`); then it is updated: name and description (from the options, else as before, else
from the input), assembly, counts of the load, creation date kept, update date now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from beacon.model.plan import Query
from beacon.store.base import Document, Store
from beacon.store.loading import DATASET_RECORDS


@dataclass(frozen=True)
class DatasetRecord:
    """What a load knows about its dataset before reading the input; None fields are filled later or kept."""

    dataset_id: str
    part: str
    loader: str  # "vcf" | "phenopackets"
    name: str | None = None
    description: str | None = None
    created: str | None = None  # the earlier record's createDateTime, kept
    described: str | None = None  # from the input, when neither the options nor an earlier record describe it

    def document(self, assembly: str | None, counts: Mapping[str, int]) -> Document:
        """The record, with the load's assembly and counts."""
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        doc: Document = {"id": self.dataset_id, "name": self.name or self.dataset_id}
        description = self.description or self.described
        if description:
            doc["description"] = description
        doc["createDateTime"] = self.created or now
        doc["updateDateTime"] = now
        doc["info"] = {
            "madeBy": {"loader": f"beacon-ingest {self.loader}", "part": self.part},
            "assembly": assembly,
            "counts": dict(counts),
        }
        return doc


async def planned_record(
    store: Store | None, dataset_id: str, part: str, loader: str, name: str | None, description: str | None
) -> DatasetRecord | None:
    """The dataset record this load should bring; None when another part's record (a steward's) stands."""
    if store is None:
        return DatasetRecord(dataset_id, part, loader, name, description)
    found = await store.find(Query(DATASET_RECORDS, (dataset_id,)))
    if not found:
        return DatasetRecord(dataset_id, part, loader, name, description)
    current = found[0]
    made_by = _made_by(current)
    if made_by is None or made_by.get("part") != part:
        return None
    created = current.get("createDateTime")
    return DatasetRecord(
        dataset_id,
        part,
        loader,
        name or _text(current.get("name")),
        description or _text(current.get("description")),
        created if isinstance(created, str) else None,
    )


def _made_by(doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    info = doc.get("info")
    made_by = info.get("madeBy") if isinstance(info, Mapping) else None
    return made_by if isinstance(made_by, Mapping) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
