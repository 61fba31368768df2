"""Ids read raw (services.row_ids) become the same uuid.UUIDs the Uuid type would give."""

from __future__ import annotations

import uuid

from desk_app.services.row_ids import Ids


def test_each_stored_form_gives_the_same_uuid_once() -> None:
    made = uuid.uuid4()
    ids = Ids()
    assert ids(made.hex) == made  # SQLite: 32 hex digits
    assert ids(made.hex) is ids(made.hex)  # one object per id
    assert ids(str(made)) == made  # the dashed form
    assert ids(made) is made  # psycopg hands back uuid.UUID already


def test_a_uuid_made_from_stored_hex_is_an_ordinary_uuid() -> None:
    import pickle
    import uuid as uuid_module

    from desk_app.services.row_ids import uuid_of_hex

    for _ in range(100):
        real = uuid_module.uuid4()
        made = uuid_of_hex(real.hex)
        assert made == real and hash(made) == hash(real) and str(made) == str(real)
        assert made.version == 4 and pickle.loads(pickle.dumps(made)) == real
        assert {made: 1}[real] == 1
