"""The API against its own OpenAPI description, with schemathesis: generated valid and invalid requests to every
operation, as an admin and as a caseworker, must never answer 5xx, and every answer must be a documented status with
the documented content type, headers and body.

Runs in-process (WSGI) on the test database, bounded to 25 examples per operation and role. (schemathesis' own pytest
plugin does not run under pytest 9, so each operation's strategies are driven by hypothesis directly.)
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assist import create_app
from tests.conftest import PASSWORD, own_request_contexts

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
ROLES = ("admin", "cw_a")


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the description (read from an app without a database)."""
    spec = create_app("test").test_client().get("/api/v1/openapi.json").get_json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS]


OPERATIONS = _operations()


def _strategies(operation, family_id: int) -> list:
    """Valid and invalid requests; where the path names a family, also pointed at one that exists (random ids almost
    never do), so the record routes run for real."""
    out = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        out.append(operation.as_strategy(generation_mode=mode))
        if "{family_id}" in operation.path:
            out.append(operation.as_strategy(generation_mode=mode, path_parameters={"family_id": family_id}))
    return out


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_its_description(app, world, role, method, path):
    family_id = world.family_a.id
    with own_request_contexts():
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        answer = app.test_client().post("/api/v1/tokens", json={"username": role, "password": PASSWORD})
    assert answer.status_code == 201, answer.get_json()
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    operation = schema[path][method]

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=st.one_of(_strategies(operation, family_id)))
    def run(case):
        with own_request_contexts():
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()
