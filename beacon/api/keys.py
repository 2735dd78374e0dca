"""Typed keys for app-lifetime objects and per-request values (no module-level mutable state anywhere)."""

from __future__ import annotations

from aiohttp import web

from beacon.config import Config
from beacon.genome.genes import GeneTable
from beacon.genome.liftover import Lifter
from beacon.model.entry_types import EntryType
from beacon.model.request import BeaconRequest
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

AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
QUERY_BUDGET = web.AppKey("query_budget", QueryBudget)
AUDIT = web.AppKey("audit", AuditLog)

REQUEST_ID = web.RequestKey("request_id", str)
CALLER = web.RequestKey("caller", Caller)
# What the audit log records about an answer: datasets it touched and the granularity it returned.
TOUCHED = web.RequestKey("datasets_touched", tuple[str, ...])
RETURNED_GRANULARITY = web.RequestKey("returned_granularity", str)
# Set once parsed, so an error response can echo the request it answers.
PARSED_REQUEST = web.RequestKey("parsed_request", BeaconRequest)
ENTRY = web.RequestKey("entry_type", EntryType)
