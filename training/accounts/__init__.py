"""Personal accounts and API keys: who is asking, and what they may do.

``models`` (accounts, sessions, sign-in failures and locks, a person's keys); ``service``
(passwords, administration); ``totp`` (the second factor); ``sessions`` (signing in, locks and
throttling); ``guard`` (the console's cookie, CSRF and the ``page`` decorator); ``api_keys`` (an
API key's caller: ``Caller``, ``lookup``, ``require``); ``roles`` (roles, duties and the one rule
that decides, applied to every /api/v1 view); ``views``, ``words``, ``cli``, ``demo``.
Must not: store or log a password, one-time password, TOTP secret or key secret in the clear.
"""
