"""The inbox's queue indexes, and the index of the Chinese text search over ``inquiry.content``.

Chinese has no spaces between words, so the search indexes short runs of characters, kept current by
the database itself (whatever writes the row, bulk inserts included):

- PostgreSQL: a GIN index over ``wz_bigrams(content)``, the distinct upper-cased two-character runs.
  A query matches rows whose bigrams contain all of the query's, then re-checked as a substring.
- SQLite: an FTS5 ``trigram`` table filled by triggers (contentless: it stores no second copy of the
  text). Each text is indexed with one space appended, so that every two characters of it, the last
  two included, begin some trigram and a two-character query can be answered from the terms
  (``inquiry_search_terms``, an ``fts5vocab`` table).
"""

from typing import Any

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

POSTGRES_UP = [
    "CREATE FUNCTION wz_bigrams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$"
    " SELECT coalesce(array_agg(DISTINCT substr(u, i, 2)), '{}')"
    " FROM (SELECT upper($1) AS u) AS s, generate_series(1, length(u) - 1) AS i $$",
    "CREATE INDEX inquiry_content_bigrams ON inquiry USING gin (wz_bigrams(content))",
]
POSTGRES_DOWN = ["DROP INDEX inquiry_content_bigrams", "DROP FUNCTION wz_bigrams(text)"]

_INDEX = "INSERT INTO inquiry_search(rowid, content) VALUES (new.id, new.content || ' ')"
_UNINDEX = (
    "INSERT INTO inquiry_search(inquiry_search, rowid, content) VALUES ('delete', old.id, old.content || ' ')"
)
SQLITE_UP = [
    "CREATE VIRTUAL TABLE inquiry_search USING fts5(content, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE inquiry_search_terms USING fts5vocab(inquiry_search, 'instance')",
    f"CREATE TRIGGER inquiry_search_insert AFTER INSERT ON inquiry BEGIN {_INDEX}; END",
    "CREATE TRIGGER inquiry_search_update AFTER UPDATE OF content ON inquiry"
    f" BEGIN {_UNINDEX}; {_INDEX}; END",
    f"CREATE TRIGGER inquiry_search_delete AFTER DELETE ON inquiry BEGIN {_UNINDEX}; END",
    "INSERT INTO inquiry_search(rowid, content) SELECT id, content || ' ' FROM inquiry",
]
SQLITE_DOWN = [
    "DROP TRIGGER inquiry_search_delete",
    "DROP TRIGGER inquiry_search_update",
    "DROP TRIGGER inquiry_search_insert",
    "DROP TABLE inquiry_search_terms",
    "DROP TABLE inquiry_search",
]


def _run(statements: dict[str, list[str]]) -> Any:
    async def run(apps: Any, schema_editor: Any) -> None:
        client = schema_editor.client
        # one statement at a time: the trigger bodies hold semicolons
        for sql in statements[client.capabilities.dialect]:
            await client.execute_query(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("models", "0005_inbox")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(fields=["unit_id", "state", "created_at"], name="inquiry_unit_state_created"),
        ),
        ops.AddIndex(
            model_name="Inquiry",
            index=Index(fields=["extension_pending_days", "created_at"], name="inquiry_extension_created"),
        ),
        ops.RunPython(
            _run({"postgres": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgres": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        ),
    ]
