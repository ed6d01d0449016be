"""The parties: organisations, their API keys, their accreditation per category, and sites.

``models`` holds the tables, ``schemas`` their shapes on the API, ``service`` the rules (who may
register whom, key issue and revocation, accreditation and its history, sites), ``views`` the API.
Must not: know of people or evidence; answer a key's secret more than once (it is shown on issue).
"""
