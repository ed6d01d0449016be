"""Shapes of workers and trainers on the API: what registering one takes, and what is shown (the
identity number only masked)..
"""
from __future__ import annotations

from marshmallow import Schema, fields

from training.web.fields import IdNumber, PersonName


class PersonCreateRequestSchema(Schema):
    name = PersonName(required=True)
    id_number = IdNumber(required=True)


class PersonSchema(Schema):
    """A worker or trainer as any organisation may see them: the number masked, always."""
    id = fields.String()
    name = fields.String()
    id_number_masked = fields.String(attribute="id_masked")
