"""Webhooks: signed POSTs of new answers and follow-ups to URLs an admin sets."""
