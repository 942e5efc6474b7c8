"""Building the e-mails the platform sends: subject, text and HTML parts, headers."""
