"""Batch requests: each item stands or falls alone, in its own savepoint, results in order."""
from __future__ import annotations

from marshmallow import ValidationError

from training.db import db
from training.errors import ApiError, flatten


def run_batch(items: list, one) -> dict:
    """Run ``one(item) -> (id, status)`` per item; a refused item rolls back only itself."""
    results = []
    for index, item in enumerate(items):
        savepoint = db.session.begin_nested()
        try:
            if not isinstance(item, dict):
                raise ValidationError({"_schema": ["[invalid] Each item must be a JSON object."]})
            ident, status = one(item)
            savepoint.commit()
            results.append({"index": index, "status": status, "id": ident})
        except ValidationError as err:
            savepoint.rollback()
            results.append({"index": index, "status": 422, "errors": flatten(err.messages)})
        except ApiError as err:
            savepoint.rollback()
            results.append({"index": index, "status": err.status,
                            "errors": err.errors or [{"field": "", "code": err.title.lower().replace(" ", "_"),
                                                      "message": err.detail}]})
    return {"items": results}
