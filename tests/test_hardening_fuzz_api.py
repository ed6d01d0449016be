"""schemathesis against the service's own OpenAPI document, in process: every operation, with
and without a key (a regulator's, which may call most of them): never a 500, and every response
conforms to the schema the document gives for it. Examples are bounded to keep this quick, and
it runs on SQLite only: the document and the views are the same on either database.

KNOWN_BUGS are operations whose answers do not match their own documentation yet (reported to
the lead with the reproducing request); remove each entry when its fix lands.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests import factories as f

KNOWN_BUGS = (
)


@pytest.fixture
def api_schema(app, client, backend):
    if backend != "sqlite":
        pytest.skip("the document and the views are the same on PostgreSQL")
    reg = f.regulator(client)
    app.config["FUZZ_REGULATOR_KEY"] = reg.key
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_never_500_and_matches_its_schema(case, app):
    if (case.method.upper(), case.path) in KNOWN_BUGS:
        return
    for headers in ({}, {"Authorization": f"Bearer {app.config['FUZZ_REGULATOR_KEY']}"}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
        case.validate_response(response, checks=[response_schema_conformance])
