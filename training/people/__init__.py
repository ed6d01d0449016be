"""People: workers and trainers, and their identity numbers.

``identity`` validates, masks and generates identity numbers and credit codes (pure functions);
``protector`` keeps a number as a keyed hash and ciphertext; ``lookups`` finds a person by number
without being an oracle (counted, name required without standing); ``models``, ``schemas``,
``service`` (registering, one person per number) and ``views`` (the API) as elsewhere.
Must not: log, print or answer a full identity number anywhere.
"""
