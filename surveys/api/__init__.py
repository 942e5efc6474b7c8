"""The read-only JSON API under /api/v1/: accounts, contacts, campaigns, answers, NPS
(per account and over time) and reasons, from the same scoped services as the pages,
signed in by per-user bearer tokens (``surveys.auth.tokens``)."""

PREFIX = "/api/v1"
