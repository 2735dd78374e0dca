"""Typed keys for app-lifetime objects and per-request values (no module-level mutable state anywhere)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from beacon.answer.service import Answer, AnswerService
from beacon.api.request_ids import RequestIds
from beacon.config import Config
from beacon.genome.genes import GeneTable
from beacon.genome.liftover import Lifter
from beacon.metrics import RequestMetrics, StoreMetrics
from beacon.model.entry_types import EntryType
from beacon.model.request import BeaconRequest
from beacon.ontology import OntologySet
from beacon.security.audit import AuditLog
from beacon.security.limits import QueryBudget, RateLimiter
from beacon.security.tokens import Authenticator, Caller
from beacon.store.guard import GuardedStore

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", GuardedStore)
# (source assembly, target assembly) -> chain, read at startup
LIFTERS = web.AppKey("lifters", dict[tuple[str, str], Lifter])
# assembly -> gene table, read at startup
GENES = web.AppKey("genes", dict[str, GeneTable])
# ontology hierarchies for filters by CURIE prefix, read at startup
ONTOLOGIES = web.AppKey("ontologies", OntologySet)

AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
QUERY_BUDGET = web.AppKey("query_budget", QueryBudget)
# The answer service every entry path asks, built once the ontologies, genes and chains are read.
ANSWERS = web.AppKey("answers", AnswerService)
AUDIT = web.AppKey("audit", AuditLog)
# One registry per app, never the process-global default: two apps in one process count separately.
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
REQUEST_METRICS = web.AppKey("request_metrics", RequestMetrics)
STORE_METRICS = web.AppKey("store_metrics", StoreMetrics)

REQUEST_IDS = web.AppKey("request_ids", RequestIds)
REQUEST_ID = web.RequestKey("request_id", str)
CALLER = web.RequestKey("caller", Caller)
# The answer given, for the audit log (datasets touched, granularity returned, the question as
# evaluated) and the query metrics (its labels); one key, set once per answer.
ANSWERED = web.RequestKey("answered", Answer)
# Set once parsed, so an error response can echo the request it answers.
PARSED_REQUEST = web.RequestKey("parsed_request", BeaconRequest)
ENTRY = web.RequestKey("entry_type", EntryType)
