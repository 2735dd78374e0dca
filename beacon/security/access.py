"""Dataset policies applied to a caller: which loaded datasets it may list, which it may query, and how finely.

Listing a dataset (reading its description) and querying it (learning anything about its records) are
separate rights: `security.list_inaccessible_datasets` grants the first to everyone, never the second.
A loaded dataset that conf names nowhere, with no `datasets_default`, has no policy and is neither
listed nor queried (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beacon.config import Config, DatasetPolicy
from beacon.errors import InvalidRequest
from beacon.model.granularity import Granularity
from beacon.model.request import BeaconRequest
from beacon.security.tokens import Caller
from beacon.store.base import DatasetInfo

LISTED = "listed"


@dataclass(frozen=True)
class Access:
    """One dataset as this caller may use it."""

    policy: DatasetPolicy
    caller_class: str  # anonymous, registered, controlled; `listed` for descriptions only
    granularity: Granularity
    count_floor: int

    @property
    def id(self) -> str:
        return self.policy.id


def unconfigured(config: Config, loaded: Sequence[DatasetInfo]) -> list[str]:
    """Loaded datasets with no policy: conf names them nowhere and sets no `datasets_default`."""
    return sorted(d.id for d in loaded if config.dataset_policy(d.id) is None)


def _policies(config: Config, loaded: Sequence[DatasetInfo], test_mode: bool) -> list[DatasetPolicy]:
    # Test datasets answer only in testMode and real ones only outside it.
    policies = (config.dataset_policy(d.id) for d in loaded)
    return [p for p in policies if p is not None and p.test == test_mode]


def accessible(config: Config, loaded: Sequence[DatasetInfo], caller: Caller, test_mode: bool = False) -> list[Access]:
    """Datasets this caller may query: public to anyone, registered to token holders, controlled to
    holders of a visa granting them."""
    out = []
    for policy in _policies(config, loaded, test_mode):
        caller_class = caller.caller_class(policy)
        if caller_class is None:
            continue
        floor = policy.count_floor or config.security.count_floor
        out.append(Access(policy, caller_class, policy.granularity_for(caller_class), floor))
    return out


def listed(config: Config, loaded: Sequence[DatasetInfo], test_mode: bool = False) -> list[Access]:
    """Every dataset with a policy, for reading descriptions when `security.list_inaccessible_datasets` is set."""
    return [Access(p, LISTED, p.max_granularity, 0) for p in _policies(config, loaded, test_mode)]


def narrowed(candidates: list[Access], request: BeaconRequest) -> list[Access]:
    """`candidates` narrowed to the request's `datasetIds`, when given.

    :raise InvalidRequest: `datasetIds` names a dataset not among the candidates; the message lists
        the ones that are, so hidden and absent datasets are indistinguishable.
    """
    if not request.dataset_ids:
        return candidates
    by_id = {a.id: a for a in candidates}
    unknown = [d for d in request.dataset_ids if d not in by_id]
    if unknown:
        known = ", ".join(sorted(by_id)) or "none"
        msg = f"datasetIds: unknown dataset(s) {', '.join(unknown)}; available: {known}"
        raise InvalidRequest(msg)
    return [by_id[d] for d in dict.fromkeys(request.dataset_ids)]


def visible_datasets(
    config: Config, loaded: Sequence[DatasetInfo], request: BeaconRequest, caller: Caller | None = None
) -> list[Access]:
    """The datasets the caller may query, narrowed to `datasetIds` (see `narrowed`)."""
    return narrowed(accessible(config, loaded, caller or Caller(), request.test_mode), request)
