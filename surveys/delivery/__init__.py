"""Every message the product sends is a row first (a ``Delivery``), written in the
transaction that causes it, then handed to the mail server by one dispatcher: in the
process that queued it when there is no broker, by Celery workers when there is."""
