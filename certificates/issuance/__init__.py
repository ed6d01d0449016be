"""Issuing certificates: one (``service``, the API's) or a group of rows at a time (``batch``, the
command line's), with the same checks, signature and records; ``queries`` holds what both share
with the layers above (which certificate a worker holds now); ``console`` is a training body's
console pages for a class's evidence, issuing everyone ready, and its certificates.

Must not: hold a private key (the signer is handed in, or taken from the app by ``issue``).
"""
