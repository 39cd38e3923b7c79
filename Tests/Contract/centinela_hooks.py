"""Schemathesis hooks for Centinela's contract fuzzing (Tests/Contract/fuzz).

`POST /v1/reports:import` takes NDJSON (`application/x-ndjson`), documented as a string body:
sent as it is, like text/plain.
"""
import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
