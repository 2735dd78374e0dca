"""Load conf/beacon.yaml and BEACON_* overrides into frozen, validated Config objects.

Nothing is read at import time; `beacon check-config` and `beacon serve` call the same `load_config`.
The values themselves are defined in beacon/config_types.py and importable from here too; the messages
for what is wrong in a file are made in beacon/config_errors.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from beacon.config_errors import violation_line, yaml_error
from beacon.config_types import (
    DEFAULT_ALGORITHMS,
    DEFAULT_STORE_URI,
    BeaconInfo,
    Config,
    DatasetPolicy,
    GeneFile,
    LiftoverChain,
    Organization,
    QueryConfig,
    SecurityConfig,
    ServerConfig,
    TrustedIssuer,
    VisaBroker,
)
from beacon.errors import ConfigError
from beacon.genome.assemblies import canonical_assembly
from beacon.model.entry_types import EntryTypeTable
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.ontology import BUILTIN_HPO, OntologySource
from beacon.served_urls import derived_urls
from beacon.store.base import StoreOptions

__all__ = [
    "DEFAULT_ALGORITHMS",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_STORE_URI",
    "ENV_OVERRIDES",
    "BeaconInfo",
    "Config",
    "DatasetPolicy",
    "GeneFile",
    "LiftoverChain",
    "Organization",
    "QueryConfig",
    "SecurityConfig",
    "ServerConfig",
    "TrustedIssuer",
    "VisaBroker",
    "default_config_path",
    "load_config",
    "schemas_dir",
]

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


def schemas_dir() -> Path:
    """The top-level `schemas/` folder: beside the package in a checkout, `beacon/schemas/` in a wheel.

    setup.py maps `schemas/` onto the package `beacon.schemas`, so an installed wheel carries the same files.

    :raise ConfigError: neither place holds `config.schema.json` (a broken installation).
    """
    for candidate in (PROJECT_ROOT / "schemas", PACKAGE_ROOT / "schemas"):
        if (candidate / "config.schema.json").is_file():
            return candidate
    msg = f"the schemas/ folder is missing: neither {PROJECT_ROOT / 'schemas'} nor {PACKAGE_ROOT / 'schemas'} exists"
    raise ConfigError(msg)


DEFAULT_CONFIG_PATH = Path("conf/beacon.yaml")


def default_config_path() -> Path:
    """`conf/beacon.yaml` in the working directory if there is one, else the copy shipped with the package.

    setup.py maps the top-level `conf/` onto `beacon.conf`, so `pip install` and `beacon demo` work anywhere.
    """
    for candidate in (DEFAULT_CONFIG_PATH, PROJECT_ROOT / DEFAULT_CONFIG_PATH, PACKAGE_ROOT / DEFAULT_CONFIG_PATH):
        if candidate.is_file():
            return candidate
    return DEFAULT_CONFIG_PATH


# Each override names the config path it replaces and how to read the string.
ENV_OVERRIDES: Mapping[str, tuple[tuple[str, ...], type]] = {
    "BEACON_STORE": (("store", "uri"), str),
    "BEACON_STORE_TIMEOUT_MS": (("store", "timeout_ms"), int),
    "BEACON_STORE_READ_PREFERENCE": (("store", "read_preference"), str),
    "BEACON_HOST": (("server", "host"), str),
    "BEACON_PORT": (("server", "port"), int),
    "BEACON_VALIDATE_RESPONSES": (("server", "validate_responses"), bool),
    "BEACON_FAST_LANE": (("server", "fast_lane"), bool),
    "BEACON_ID": (("beacon", "id"), str),
    "BEACON_NAME": (("beacon", "name"), str),
    "BEACON_BASE_URL": (("beacon", "base_url"), str),
    "BEACON_ENVIRONMENT": (("beacon", "environment"), str),
    "BEACON_DEFAULT_GRANULARITY": (("query", "default_granularity"), str),
    "BEACON_MAX_GRANULARITY": (("query", "max_granularity"), str),
}


def _validate(data: object, origin: str, text: str | None = None) -> None:
    """:raise ConfigError: one line per violation, `file:line: key.path: message` (the line when `text` is given)."""
    schema = json.loads((schemas_dir() / "config.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("\n".join(violation_line(e, origin, text) for e in errors))


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    for name, (path, kind) in ENV_OVERRIDES.items():
        if name not in env:
            continue
        raw = env[name]
        value: object
        if kind is int:
            try:
                value = int(raw)
            except ValueError:
                msg = f"{name} (overrides {'.'.join(path)}): expected an integer, got {raw!r}"
                raise ConfigError(msg) from None
        elif kind is bool:
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                msg = f"{name} (overrides {'.'.join(path)}): expected true or false, got {raw!r}"
                raise ConfigError(msg)
            value = raw.lower() in {"1", "true", "yes"}
        else:
            value = raw
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return data


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, override and validate the configuration.

    :raise ConfigError: the file is missing or unreadable, or a value is invalid (the message names
        the file or variable and the path of the bad value).
    """
    env = os.environ if env is None else env
    path = path or (Path(env["BEACON_CONFIG"]) if "BEACON_CONFIG" in env else default_config_path())
    try:
        text = path.read_text()
    except FileNotFoundError:
        msg = f"{path}: configuration file not found"
        raise ConfigError(msg) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error(path, exc)) from None
    if not isinstance(data, dict):
        msg = f"{path}: expected a mapping at the top level"
        raise ConfigError(msg)
    _validate(data, str(path), text)
    overridden = _apply_env(json.loads(json.dumps(data)), env)
    if overridden != data:
        _validate(overridden, f"{path} with BEACON_* overrides")
    return _build(overridden, str(path))


def _security(sec: Mapping[str, Any], source: str) -> SecurityConfig:
    budget, rate = sec.get("query_budget", {}), sec.get("rate_limit", {})
    defaults = SecurityConfig()
    audit = sec.get("audit_log")
    return SecurityConfig(
        issuers=tuple(
            TrustedIssuer(
                i["issuer"], i["audience"], tuple(i.get("algorithms", DEFAULT_ALGORITHMS)), i.get("userinfo", False)
            )
            for i in sec.get("issuers", [])
        ),
        visa_brokers=tuple(
            VisaBroker(b["issuer"], b.get("jwks_uri"), tuple(b.get("algorithms", DEFAULT_ALGORITHMS)))
            for b in sec.get("visa_brokers", [])
        ),
        count_floor=sec.get("count_floor", 0),
        budget_queries=budget.get("queries", defaults.budget_queries),
        budget_window_s=budget.get("window_s", defaults.budget_window_s),
        rate_per_s=rate.get("requests_per_s", 0.0),
        rate_burst=rate.get("burst", defaults.rate_burst),
        audit_log=Path(audit) if audit else None,  # relative to the working directory, like var/
        list_inaccessible_datasets=sec.get("list_inaccessible_datasets", False),
        jwks_refresh_min_s=sec.get("jwks_refresh_min_s", defaults.jwks_refresh_min_s),
        jwks_max_age_s=sec.get("jwks_max_age_s", defaults.jwks_max_age_s),
        http_timeout_s=sec.get("http_timeout_s", defaults.http_timeout_s),
    )


def _repeated(values: list[str]) -> list[str]:
    """Values that occur more than once, sorted."""
    return sorted({v for v in values if values.count(v) > 1})


def _ontologies(data: Mapping[str, Any], source: str) -> tuple[OntologySource, ...]:
    files = tuple(
        OntologySource(o["prefix"], Path(source).parent / o["path"], o.get("name", ""), str(o.get("version", "")))
        for o in data.get("ontologies", [])
    )
    prefixes = [o.prefix for o in files]
    duplicates = _repeated(prefixes)
    if duplicates:
        msg = f"{source}: ontologies: prefix(es) configured twice: {', '.join(duplicates)}"
        raise ConfigError(msg)
    # A configured HP file replaces the built-in HPO.
    builtin = data.get("builtin_hpo", True) and BUILTIN_HPO.prefix not in prefixes
    return ((BUILTIN_HPO,) if builtin else ()) + files


def _policy(dataset_id: str, d: Mapping[str, Any]) -> DatasetPolicy:
    return DatasetPolicy(
        id=dataset_id,
        security=SecurityLevel(d.get("security", "public")),
        max_granularity=Granularity(d.get("max_granularity", "record")),
        test=d.get("test", False),
        assembly=d.get("assembly"),
        granularity={k: Granularity(v) for k, v in d.get("granularity", {}).items()},
        count_floor=d.get("count_floor", 0),
        visas=tuple(d.get("visas", ())),
        visa_types=tuple(d.get("visa_types", ())),
    )


def _build(data: Mapping[str, Any], source: str) -> Config:
    b = dict(data["beacon"])
    org = Organization(**b.pop("organization"))
    q = dict(data.get("query", {}))
    query = QueryConfig(
        default_granularity=Granularity(q.get("default_granularity", "boolean")),
        max_granularity=Granularity(q.get("max_granularity", "record")),
        default_limit=q.get("default_limit", 10),
        max_limit=q.get("max_limit", 1000),
        max_filters=q.get("max_filters", 50),
        max_values=q.get("max_values", 100),
    )
    datasets = tuple(_policy(d["id"], d) for d in data.get("datasets", []))
    default = data.get("datasets_default")
    duplicates = _repeated([d.id for d in datasets])
    if duplicates:
        msg = f"{source}: datasets: duplicate id(s) {', '.join(duplicates)}"
        raise ConfigError(msg)
    chains = []
    for n, item in enumerate(data.get("liftover", [])):
        ends = (canonical_assembly(item["from"]), canonical_assembly(item["to"]))
        if None in ends:
            msg = f"{source}: liftover[{n}]: unknown assembly in {item['from']!r} -> {item['to']!r}"
            raise ConfigError(msg)
        chains.append(LiftoverChain(str(ends[0]), str(ends[1]), Path(source).parent / item["chain"]))
    genes = []
    for n, item in enumerate(data.get("genes", [])):
        assembly = canonical_assembly(item["assembly"])
        if assembly is None:
            msg = f"{source}: genes[{n}].assembly: unknown assembly {item['assembly']!r}"
            raise ConfigError(msg)
        genes.append(GeneFile(assembly, Path(source).parent / item["file"]))
    server = ServerConfig(**data.get("server", {}))
    beacon = BeaconInfo(organization=org, **b)
    if "base_url" not in b:
        beacon = derived_urls(beacon, server, welcome="welcome_url" not in b)
    elif "welcome_url" not in b and beacon.base_url.rstrip("/").endswith("/api"):
        beacon = replace(beacon, welcome_url=beacon.base_url.rstrip("/").removesuffix("api"))
    return Config(
        beacon=beacon,
        urls_from_server="base_url" not in b,
        liftover=tuple(chains),
        genes=tuple(genes),
        ontologies=_ontologies(data, source),
        server=server,
        store_uri=data.get("store", {}).get("uri", DEFAULT_STORE_URI),
        store_options=StoreOptions(**{k: v for k, v in data.get("store", {}).items() if k != "uri"}),
        query=query,
        datasets=datasets,
        datasets_default=_policy("*", default) if default is not None else None,
        entry_types=EntryTypeTable().with_overrides(data.get("entry_types", {})),
        security=_security(data.get("security", {}), source),
        source=source,
    )
