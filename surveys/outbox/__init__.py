"""A development mail sink and the outbox page that shows what it received."""
