"""Judge responses with the official schemas as the spec README prescribes (shared with --validate-responses)."""

from __future__ import annotations

from typing import Any

from beacon import spec
from beacon.model.entry_types import EntryTypeTable

RECORD_SCHEMAS = {t.id: t.schema_file for t in EntryTypeTable().types}


def response_problems(document: dict[str, Any], endpoint: str | None = None) -> list[str]:
    return spec.response_problems(document, endpoint, RECORD_SCHEMAS)
