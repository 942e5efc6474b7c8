"""Campaigns, the invitations they send and the responses that come back."""
