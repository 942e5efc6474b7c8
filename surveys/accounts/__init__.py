"""Customer accounts, their contacts, and loading both from CSV."""
