"""The answer service: one path from a parsed question and its caller to a Beacon response body.

Every front door (the HTTP handlers, the fast lane, the aggregator's local answers) asks here; the
access, budget and disclosure decisions are taken in `decision.py` and nowhere else.
"""
