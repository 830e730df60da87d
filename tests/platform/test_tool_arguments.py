"""Arguments of the wrong shape are answered in the published schema's words, with an example
of the expected shape, and never with the name of one of our classes."""

from __future__ import annotations

import json

import pytest

from mcp_workbench.data import models

pytestmark = pytest.mark.anyio

CLASS_NAMES = [name for name in dir(models) if name[:1].isupper()]


@pytest.mark.parametrize(
    ("arguments", "field", "shape"),
    [
        ({"operation": "create_table", "table": "t", "columns": ["id integer"]}, "columns.0", '{"name": '),
        ({"operation": "create_table", "table": "t", "columns": {"name": "id"}}, "columns", '[{"name": '),
        ({"operation": "insert", "table": "t", "rows": {"a": 1}}, "rows", '[{"column": '),
        ({"operation": "insert", "table": "t", "rows": [[1, 2]]}, "rows.0", '{"column": '),
        ({"operation": "update", "table": "t", "values": [1], "all_rows": True}, "values", '{"column": '),
        ({"operation": "delete", "table": "t", "where": "id = 1"}, "where", '[{"column": '),
        ({"operation": "delete", "table": "t", "where": ["id = 1"]}, "where.0", '{"column": '),
    ],
)
async def test_a_wrong_shape_shows_the_expected_shape(session, arguments: dict, field: str, shape: str) -> None:
    error = await session.error("data_write", "VALIDATION_ERROR", **arguments)
    problem = next(p["problem"] for p in error["details"]["problems"] if p["field"] == field)
    assert shape in problem, problem
    example = problem.split(" like ", 1)[1]
    json.loads(example)  # the example is valid JSON the model can copy
    assert not [name for name in CLASS_NAMES if name in error["error"]], error["error"]


async def test_a_wrong_shape_of_a_read_argument_shows_the_shape_too(session) -> None:
    error = await session.error("data_read", "VALIDATION_ERROR", operation="select", table="t", order_by="a")
    assert '[{"column": "text", "desc": true}]' in error["error"]
