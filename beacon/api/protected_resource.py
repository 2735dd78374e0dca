"""OAuth 2.0 Protected Resource Metadata (RFC 9728): how a portal or a network learns to authenticate here.

Served at `/.well-known/oauth-protected-resource` and at the RFC's form for a resource with a path
(`/.well-known/oauth-protected-resource/api`), and named in the `resource_metadata` parameter of every
401's `WWW-Authenticate`. It says what the configuration says and nothing more: the trusted issuers,
the passport brokers, the scopes that bring a passport, and the visa types datasets accept. Dataset
ids and ControlledAccessGrants values are not listed: listing datasets follows
`security.list_inaccessible_datasets`, never this document.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from beacon.api.keys import CONFIG
from beacon.config import Config
from beacon.security.passport import CONTROLLED_ACCESS_GRANTS

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def resource(config: Config) -> str:
    """The protected resource's identifier: the API root URL."""
    return config.beacon.base_url.rstrip("/")


def metadata_url(config: Config) -> str:
    """Where the metadata of `resource(config)` is, by RFC 9728 section 3.1 (well-known between host and path)."""
    parts = urlsplit(resource(config))
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{parts.path.rstrip('/')}"


def metadata(config: Config) -> dict[str, Any]:
    """The RFC 9728 document, with the visa vocabulary of GA4GH Passports beside the registered fields."""
    security = config.security
    policies = [*config.datasets, *([config.datasets_default] if config.datasets_default else [])]
    visa_types = {t for p in policies for t in p.visa_types}
    if any(p.security.value == "controlled" and not p.visa_types for p in policies) or any(p.visas for p in policies):
        visa_types.add(CONTROLLED_ACCESS_GRANTS)
    scopes = ["openid"] + (["ga4gh_passport_v1"] if visa_types else [])
    out: dict[str, Any] = {
        "resource": resource(config),
        "resource_name": config.beacon.name,
        "authorization_servers": [i.issuer for i in security.issuers],
        "bearer_methods_supported": ["header"],
        "scopes_supported": scopes,
        # GA4GH Passport fields (RFC 9728 section 2 allows more): who may sign visas, and which types count.
        "ga4gh_visa_issuers": [b.issuer for b in security.visa_brokers],
        "ga4gh_visa_types_supported": sorted(visa_types),
    }
    if config.beacon.documentation_url:
        out["resource_documentation"] = config.beacon.documentation_url
    return out


async def protected_resource(request: web.Request) -> web.Response:
    return web.json_response(metadata(request.app[CONFIG]))
