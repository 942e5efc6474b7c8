"""Closing the loop: a follow-up for the account's manager on every detractor and exit
answer, its alert and weekly digest of overdue ones, and the pages to work them."""
