"""Informational endpoints: /, /info, /service-info, /configuration, /map, /entry_types, /filtering_terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from beacon import __version__
from beacon.answer.envelope import informational_meta
from beacon.api.keys import ANSWERS, CALLER, CONFIG, ONTOLOGIES, PARSED_REQUEST
from beacon.api.parse import parse_request
from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.granularity import SecurityLevel
from beacon.model.populations import SCOPE as POPULATION_SCOPE
from beacon.model.populations import TERM_PREFIX as POPULATION_TERM
from beacon.model.populations import filter_terms as population_filter_terms
from beacon.model.request import API_VERSION
from beacon.ontology import NO_ONTOLOGIES, OntologySet
from beacon.store.base import Term

SPEC_RAW = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
_MODEL = SPEC_RAW + "models/json/beacon-v2-default-model/"
_PRODUCTION_STATUS = {"dev": "DEV", "test": "TEST", "staging": "TEST", "prod": "PROD"}
_SECURITY_NAMES = {
    SecurityLevel.PUBLIC: "PUBLIC",
    SecurityLevel.REGISTERED: "REGISTERED",
    SecurityLevel.CONTROLLED: "CONTROLLED",
}
# Ontology resources for the prefixes most often seen in Beacon data; others are listed by prefix only.
_RESOURCES = {
    "HP": (
        "Human Phenotype Ontology",
        "http://purl.obolibrary.org/obo/hp.owl",
        "http://purl.obolibrary.org/obo/HP_",
    ),
    "MONDO": (
        "Mondo Disease Ontology",
        "http://purl.obolibrary.org/obo/mondo.owl",
        "http://purl.obolibrary.org/obo/MONDO_",
    ),
    "NCIT": (
        "NCI Thesaurus",
        "http://purl.obolibrary.org/obo/ncit.owl",
        "http://purl.obolibrary.org/obo/NCIT_",
    ),
    "UBERON": (
        "Uberon anatomy ontology",
        "http://purl.obolibrary.org/obo/uberon.owl",
        "http://purl.obolibrary.org/obo/UBERON_",
    ),
    "EFO": (
        "Experimental Factor Ontology",
        "http://www.ebi.ac.uk/efo/efo.owl",
        "http://www.ebi.ac.uk/efo/EFO_",
    ),
    "SO": (
        "Sequence Ontology",
        "http://purl.obolibrary.org/obo/so.owl",
        "http://purl.obolibrary.org/obo/SO_",
    ),
    "GENO": (
        "Genotype Ontology",
        "http://purl.obolibrary.org/obo/geno.owl",
        "http://purl.obolibrary.org/obo/GENO_",
    ),
    "OBI": (
        "Ontology for Biomedical Investigations",
        "http://purl.obolibrary.org/obo/obi.owl",
        "http://purl.obolibrary.org/obo/OBI_",
    ),
}


def _present(**members: str) -> dict[str, str]:
    """The members with a value: optional members left unconfigured are omitted, never sent empty."""
    return {key: value for key, value in members.items() if value}


def _informational(
    build: Callable[[Config], dict[str, Any]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of an informational endpoint: `build(config)` as the response, in the informational envelope."""

    async def handler(request: web.Request) -> web.Response:
        await _accept(request)
        config = request.app[CONFIG]
        return web.json_response({"meta": informational_meta(config), "response": build(config)})

    return handler


def _info(config: Config) -> dict[str, Any]:
    b = config.beacon
    o = b.organization
    return {
        "id": b.id,
        "name": b.name,
        "apiVersion": API_VERSION,
        "environment": b.environment,
        "organization": {
            "id": o.id,
            "name": o.name,
            **_present(
                description=o.description,
                address=o.address,
                welcomeUrl=o.welcome_url,
                contactUrl=o.contact_url,
                logoUrl=o.logo_url,
            ),
        },
        "version": b.version,
        **_present(
            description=b.description,
            welcomeUrl=b.welcome_url,
            alternativeUrl=b.alternative_url,
            createDateTime=b.create_datetime,
            updateDateTime=b.update_datetime,
        ),
    }


info = _informational(_info)


async def service_info(request: web.Request) -> web.Response:
    await _accept(request)
    b = request.app[CONFIG].beacon
    body: dict[str, Any] = {
        "id": b.id,
        "name": b.name,
        "type": {"group": "org.ga4gh", "artifact": "beacon", "version": API_VERSION.removeprefix("v")},
        "organization": {
            "name": b.organization.name,
            "url": b.organization.welcome_url or b.welcome_url or b.base_url,
        },
        "version": b.version or __version__,
        "environment": b.environment,
        **_present(
            description=b.description,
            contactUrl=b.organization.contact_url or b.contact_url,
            documentationUrl=b.documentation_url,
            createdAt=b.create_datetime,
            updatedAt=b.update_datetime,
        ),
    }
    return web.json_response(body)


def entry_type_definition(entry: EntryType) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "name": entry.name,
        "description": entry.description,
        "ontologyTermForThisType": {"id": entry.ontology_term[0], "label": entry.ontology_term[1]},
        "partOfSpecification": "Beacon v2.0.0",
        "defaultSchema": {
            "id": entry.schema_id,
            "name": f"Default schema for {entry.name.lower()}",
            "referenceToSchemaDefinition": _MODEL + entry.schema_file,
            "schemaVersion": entry.schema_version,
        },
        "additionallySupportedSchemas": [],
        "nonFilteredQueriesAllowed": entry.non_filtered_queries_allowed,
    }
    if entry.collection_of:
        out["aCollectionOf"] = [{"id": i, "name": n} for i, n in entry.collection_of]
    return out


def _entry_types(config: Config) -> dict[str, Any]:
    return {"entryTypes": {t.id: entry_type_definition(t) for t in config.entry_types.enabled()}}


# How filters may be combined and compared here (docs/filters.md), for clients and networks to read before asking.
# Both OR forms reach the same rules, the disclosure rules on unions included.
QUERY_CAPABILITIES: dict[str, Any] = {
    "filterOperators": ["=", "!", "!=", "<", ">", "<=", ">="],
    "orInFilters": {
        "nestedFiltersArray": True,  # the specification's proposal: [f1, [f2, f3]] is f1 AND (f2 OR f3)
        "filterGroups": ["anyOf", "noneOf"],  # this beacon's extension
    },
    "durationComparisons": True,  # ISO 8601 durations compare with <, >, <=, >= (e.g. ageOfOnset >= P80Y)
    "countPrecision": ["exact", "rounded"],  # Beacon v2.2, in responseSummary and each result set
}


def _configuration(config: Config) -> dict[str, Any]:
    levels = sorted({_SECURITY_NAMES[d.security] for d in config.datasets} or {"PUBLIC"})
    return {
        "$schema": SPEC_RAW + "framework/json/configuration/beaconConfigurationSchema.json",
        "maturityAttributes": {"productionStatus": _PRODUCTION_STATUS[config.beacon.environment]},
        "securityAttributes": {
            "defaultGranularity": config.query.default_granularity.value,
            "securityLevels": levels,
        },
        "queryCapabilities": QUERY_CAPABILITIES,
        **_entry_types(config),
    }


configuration = _informational(_configuration)
entry_types = _informational(_entry_types)


def beacon_map(config: Config) -> dict[str, Any]:
    base = config.beacon.base_url.rstrip("/")
    sets: dict[str, Any] = {}
    for entry in config.entry_types.enabled():
        root = f"{base}/{entry.path}"
        endpoint_set: dict[str, Any] = {
            "entryType": entry.id,
            "rootUrl": root,
            "singleEntryUrl": f"{root}/{{id}}",
            "filteringTermsUrl": f"{root}/filtering_terms",
        }
        lookups = config.entry_types.lookups_of(entry)
        if lookups:
            endpoint_set["endpoints"] = {
                f"{target.id}Lookup": {"returnedEntryType": target.id, "url": f"{root}/{{id}}/{target.path}"}
                for _, target in lookups
            }
        sets[entry.id] = endpoint_set
    return {"$schema": SPEC_RAW + "framework/json/configuration/beaconMapSchema.json", "endpointSets": sets}


map_ = _informational(beacon_map)


async def _accept(request: web.Request) -> None:
    """Informational endpoints take no parameters, but a malformed request is still an error."""
    request[PARSED_REQUEST] = await parse_request(request, request.app[CONFIG].query)


def _terms_document(
    terms: list[Term], skip: int, limit: int, ontologies: OntologySet = NO_ONTOLOGIES
) -> dict[str, Any]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    # Population names (indexed as terms) are offered as the population filters' values.
    names = [t.id.removeprefix(POPULATION_TERM) for t in terms if t.id.startswith(POPULATION_TERM)]
    for fid, values in population_filter_terms(names).items():
        merged[(fid, "alphanumeric")] = {
            "type": "alphanumeric",
            "id": fid,
            "scopes": [POPULATION_SCOPE],
            "values": values,
        }
    for t in terms:
        if t.id.startswith(POPULATION_TERM):
            continue
        item = merged.setdefault((t.id, t.type), {"type": t.type, "id": t.id, "scopes": []})
        if t.label and "label" not in item:
            item["label"] = t.label
        if t.scope and t.scope not in item["scopes"]:
            item["scopes"].append(t.scope)
    for item in merged.values():
        # The loaded hierarchy names terms the data left unlabelled (e.g. bare ids in a phenopacket).
        ontology = ontologies.for_term(item["id"]) if "label" not in item else None
        current = ontology.resolve(item["id"]) if ontology is not None else None
        if ontology is not None and current is not None and ontology.labels.get(current):
            item["label"] = ontology.labels[current]
    items = sorted(merged.values(), key=lambda i: (i["id"], i["type"]))
    page = items[skip * limit : skip * limit + limit]
    prefixes = sorted({i["id"].split(":", 1)[0] for i in page if i["type"] == "ontology" and ":" in i["id"]})
    resources = []
    for prefix in prefixes:
        resource: dict[str, Any] = {"id": prefix.lower(), "namespacePrefix": f"{prefix}:"}
        if prefix in _RESOURCES:
            name, url, iri = _RESOURCES[prefix]
            resource.update({"name": name, "url": url, "iriPrefix": iri})
        loaded = ontologies.by_prefix.get(prefix)
        if loaded is not None and loaded.version:
            resource["version"] = loaded.version
        resources.append(resource)
    return {"filteringTerms": page, "resources": resources}


async def filtering_terms(
    request: web.Request, entry: EntryType | None = None, per_record: bool = False
) -> web.Response:
    """Terms over every entry type, one entry type, or one record (`/{entry}/{id}/filtering_terms`)."""
    config = request.app[CONFIG]
    breq = await parse_request(request, config.query)
    request[PARSED_REQUEST] = breq
    record_id = request.match_info["id"] if per_record else None
    terms = await request.app[ANSWERS].filtering_terms(breq, request[CALLER], entry, record_id)
    return web.json_response(
        {
            "meta": informational_meta(config),
            "response": _terms_document(
                terms, breq.skip, breq.limit if breq.limit_given else len(terms), request.app[ONTOLOGIES]
            ),
        }
    )
