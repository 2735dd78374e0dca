"""Which loaded datasets a caller may query, and the finest granularity each allows that caller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beacon.config import Config, DatasetPolicy
from beacon.errors import InvalidRequest
from beacon.model.granularity import Granularity
from beacon.model.request import BeaconRequest
from beacon.security.tokens import Caller
from beacon.store.base import DatasetInfo


@dataclass(frozen=True)
class Access:
    """One dataset as this caller may query it."""

    policy: DatasetPolicy
    caller_class: str
    granularity: Granularity
    count_floor: int

    @property
    def id(self) -> str:
        return self.policy.id


def accessible(config: Config, loaded: Sequence[DatasetInfo], caller: Caller, test_mode: bool = False) -> list[Access]:
    """Datasets this caller may query: public to anyone, registered to token holders, controlled to
    holders of a visa granting them; test datasets only in testMode and real ones only outside it."""
    out = []
    for info in loaded:
        policy = config.dataset_policy(info.id)
        if policy.test != test_mode:
            continue
        caller_class = caller.caller_class(policy)
        if caller_class is None:
            continue
        floor = policy.count_floor or config.security.count_floor
        out.append(Access(policy, caller_class, policy.granularity_for(caller_class), floor))
    return out


def listed_datasets(config: Config, loaded: Sequence[DatasetInfo], test_mode: bool = False) -> list[Access]:
    """Every dataset, for the `/datasets` listing when `security.list_inaccessible_datasets` is set:
    their descriptions are public even where their records are not."""
    policies = [config.dataset_policy(d.id) for d in loaded]
    return [Access(p, "listed", p.max_granularity, 0) for p in policies if p.test == test_mode]


def visible_datasets(
    config: Config, loaded: Sequence[DatasetInfo], request: BeaconRequest, caller: Caller | None = None
) -> list[Access]:
    """The accessible datasets, narrowed to `datasetIds` when given.

    :raise InvalidRequest: `datasetIds` names a dataset the caller may not query; the message lists
        the ones it may, so hidden and absent datasets are indistinguishable.
    """
    visible = accessible(config, loaded, caller or Caller(), request.test_mode)
    if not request.dataset_ids:
        return visible
    by_id = {a.id: a for a in visible}
    unknown = [d for d in request.dataset_ids if d not in by_id]
    if unknown:
        known = ", ".join(sorted(by_id)) or "none"
        msg = f"datasetIds: unknown dataset(s) {', '.join(unknown)}; available: {known}"
        raise InvalidRequest(msg)
    return [by_id[d] for d in dict.fromkeys(request.dataset_ids)]


def disclosed_count(n: int, floor: int) -> int:
    """What a count is reported as: 0 stays 0, counts at or above the floor are exact, counts from 1
    to floor-1 are reported as the floor (docs/security.md)."""
    return floor if 0 < n < floor else n
