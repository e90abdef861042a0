"""What every app stands on: logins, roles and API keys, history origin, the audit chain, and the console's parts.

- ``roles`` (who may do what), ``models.ApiKey`` with ``services`` and ``api/`` (authentication, permissions,
  throttling, errors, pagination), ``client_address`` (whose address a request is, behind trusted proxies):
  how people and integrations are let in;
- ``history`` (who changed what, from where), ``audit`` (the hash chain of destructive operations) and
  ``append_only`` (history and audit rows are never rewritten): how evidence is kept;
- ``csv_safety``, ``charts``, ``dashboard``, ``progress``, ``queueing`` and ``admin`` (the base classes every
  app's console pages use): shared parts of the console, the exports and the background work.

It knows no catalog, request or recording. Its models name the customer account only through the
``ACCOUNT_MODEL`` setting (see ``models``), so imports point one way: ``recordings`` → ``dsar`` →
``residency`` → ``core``.
"""
