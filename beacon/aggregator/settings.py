"""conf/aggregator.yaml into frozen settings, validated by schemas/aggregator.schema.json."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from beacon.config import BeaconInfo, Config, Organization, ServerConfig, schemas_dir
from beacon.errors import ConfigError

_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


@dataclass(frozen=True)
class MemberSettings:
    id: str
    url: str  # the member's API root, e.g. https://beacon.example.org/api
    timeout_s: float = 5.0
    headers: tuple[tuple[str, str], ...] = ()  # per-member credentials, from conf or ${ENV}
    forward_token: bool = False  # pass the caller's Authorization header on to this member

    def static_headers(self) -> dict[str, str]:
        """The configured headers sent with every request to this member.

        With `forward_token` a static Authorization (any spelling) is never among them: the member must
        see the caller's own token or none, or a caller who sends no token would get the network's rights.
        """
        if not self.forward_token:
            return dict(self.headers)
        return {k: v for k, v in self.headers if k.lower() != "authorization"}


@dataclass(frozen=True)
class AggregatorSettings:
    beacon: Config  # the aggregator's own identity, served by its framework endpoints
    members: tuple[MemberSettings, ...]
    deadline_s: float = 10.0
    refresh_s: float = 300.0
    cache_ttl_s: float = 10.0
    max_connections: int = 100
    max_response_bytes: int = 16 << 20
    breaker_failures: int = 3
    breaker_open_s: float = 30.0
    member_defaults: dict[str, Any] = field(default_factory=dict)


def _expand(value: str, where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in os.environ:
            msg = f"{where}: environment variable {m.group(1)} is not set"
            raise ConfigError(msg)
        return os.environ[m.group(1)]

    return _ENV.sub(sub, value)


def load_aggregator_settings(path: Path) -> AggregatorSettings:
    """:raise ConfigError: missing, unreadable or invalid file (the message names the path of the bad value)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        msg = f"{path}: cannot read: {exc}"
        raise ConfigError(msg) from None
    schema = json.loads((schemas_dir() / "aggregator.schema.json").read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{path}: {'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
        raise ConfigError("\n".join(lines))
    return settings_from(data, str(path))


def settings_from(data: dict[str, Any], source: str = "<dict>") -> AggregatorSettings:
    b = dict(data["beacon"])
    org = Organization(**b.pop("organization"))
    server = ServerConfig(**data.get("server", {}))
    members = tuple(
        MemberSettings(
            id=m["id"],
            url=m["url"].rstrip("/"),
            timeout_s=m.get("timeout_s", 5.0),
            headers=tuple(
                (k, _expand(v, f"{source}: members[{n}].headers.{k}")) for k, v in m.get("headers", {}).items()
            ),
            forward_token=m.get("forward_token", False),
        )
        for n, m in enumerate(data["members"])
    )
    for n, m in enumerate(members):
        if m.forward_token and any(k.lower() == "authorization" for k, _ in m.headers):
            msg = (
                f"{source}: members[{n}] ({m.id}): forward_token and a static Authorization header exclude each "
                "other (a caller without a token would be answered with the static credential's rights); "
                "remove one of them"
            )
            raise ConfigError(msg)
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        msg = f"{source}: members: duplicate member ids"
        raise ConfigError(msg)
    fan = data.get("fanout", {})
    return AggregatorSettings(
        beacon=Config(beacon=BeaconInfo(organization=org, **b), server=server, source=source),
        members=members,
        deadline_s=fan.get("deadline_s", 10.0),
        refresh_s=fan.get("refresh_s", 300.0),
        cache_ttl_s=fan.get("cache_ttl_s", 10.0),
        max_connections=fan.get("max_connections", 100),
        max_response_bytes=fan.get("max_response_bytes", 16 << 20),
        breaker_failures=fan.get("breaker_failures", 3),
        breaker_open_s=fan.get("breaker_open_s", 30.0),
    )
