"""Which loaded datasets a request may see, and the finest granularity each allows."""

from __future__ import annotations

from collections.abc import Sequence

from beacon.config import Config, DatasetPolicy
from beacon.errors import InvalidRequest
from beacon.model.granularity import SecurityLevel
from beacon.model.request import BeaconRequest
from beacon.store.base import DatasetInfo


def visible_datasets(config: Config, loaded: Sequence[DatasetInfo], request: BeaconRequest) -> list[DatasetPolicy]:
    """Datasets in scope: public ones (until authentication is configured), test data only in testMode,
    narrowed to `datasetIds` when given.

    :raise InvalidRequest: `datasetIds` names a dataset that is not visible to the caller; the message
        lists the visible ones, so hidden and absent datasets are indistinguishable.
    """
    policies = [config.dataset_policy(d.id) for d in loaded]
    visible = [p for p in policies if p.security is SecurityLevel.PUBLIC and p.test == request.test_mode]
    if not request.dataset_ids:
        return visible
    by_id = {p.id: p for p in visible}
    unknown = [d for d in request.dataset_ids if d not in by_id]
    if unknown:
        known = ", ".join(sorted(by_id)) or "none"
        msg = f"datasetIds: unknown dataset(s) {', '.join(unknown)}; available: {known}"
        raise InvalidRequest(msg)
    return [by_id[d] for d in dict.fromkeys(request.dataset_ids)]
