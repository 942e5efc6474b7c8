"""The demo that ``make run`` loads: Nordic B2B accounts and a year of answered NPS campaigns."""
