"""Full-text search kept by the database itself, and a surrogate key for turns.

- turns gets an integer ``id`` (unique (interaction_id, idx) stays): SQLite's FTS5 index
  refers to rows by it, and VACUUM may renumber implicit rowids.
- SQLite: ``turns_fts``, an external-content FTS5 table (diacritics optional) kept in sync
  by triggers. The pre-migration ``turns_fts`` (its own copy of the text) is dropped.
- PostgreSQL: ``turns.search`` tsvector = the turn stemmed in its interaction's language
  (``qa_ts_config``) plus its words lower-cased without diacritics (``qa_fold``), set by a
  trigger, with a GIN index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Text-search configurations for interaction languages; the rest use 'simple' (no stemming:
# PostgreSQL has no Czech or Slovene stemmer). Only those the server has are used.
TS_CONFIGS = {
    "en": "english",
    "ru": "russian",
    "lt": "lithuanian",
    "de": "german",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "fi": "finnish",
    "hu": "hungarian",
    "ro": "romanian",
    "tr": "turkish",
    "sr": "serbian",
}
# Lower-case letters with diacritics and their base letters (Latin for our languages' and
# neighbours', plus Russian ё and й), for qa_fold.
FOLD_FROM = "áàâäãåāăąçćčďéèêëēėęěíìîïīįĺľńňñóòôöõőŕřśšşťúùûüūůűųýÿźżžёйłđøß"
FOLD_TO = "aaaaaaaaacccdeeeeeeeeiiiiiillnnnoooooorrssstuuuuuuuuyyzzzеилdos"


def _turns(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column(
            "interaction_id",
            sa.String(255),
            sa.ForeignKey("interactions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("start", sa.Float),
        sa.Column("end", sa.Float),
        sa.Column("at", sa.DateTime(timezone=True)),
        sa.Column("metadata", sa.JSON),
        sa.UniqueConstraint("interaction_id", "idx", name="uq_turns_interaction_idx"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS turns_fts")
    new = _turns("turns_new")
    new.metadata.reflect(bind, only=["interactions"])  # for the foreign key
    new.create(bind)
    old = _turns("turns")
    columns = [c.name for c in old.columns if c.name != "id"]
    bind.execute(
        new.insert().from_select(
            columns, sa.select(*[old.c[c] for c in columns]).order_by(old.c.interaction_id, old.c.idx)
        )
    )
    op.drop_table("turns")
    op.rename_table("turns_new", "turns")
    if bind.dialect.name == "sqlite":
        _sqlite_fts()
    elif bind.dialect.name == "postgresql":
        _postgres_tsvector(bind)


def _sqlite_fts() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE turns_fts USING fts5(text, content='turns', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN "
        "INSERT INTO turns_fts (rowid, text) VALUES (new.id, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN "
        "INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.id, old.text); END"
    )
    op.execute(
        "CREATE TRIGGER turns_fts_update AFTER UPDATE OF text ON turns BEGIN "
        "INSERT INTO turns_fts (turns_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        "INSERT INTO turns_fts (rowid, text) VALUES (new.id, new.text); END"
    )
    op.execute("INSERT INTO turns_fts (turns_fts) VALUES ('rebuild')")


def _postgres_tsvector(bind: sa.Connection) -> None:
    have = set(bind.exec_driver_sql("SELECT cfgname FROM pg_ts_config").scalars())
    cases = " ".join(
        f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in TS_CONFIGS.items() if name in have
    )
    op.execute(
        "CREATE FUNCTION qa_ts_config(lang text) RETURNS regconfig LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT CASE lower(split_part(coalesce(lang, ''), '-', 1)) {cases} "
        "ELSE 'simple'::regconfig END $$"
    )
    op.execute(
        "CREATE FUNCTION qa_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT translate(lower(t), '{FOLD_FROM}', '{FOLD_TO}') $$"
    )
    op.execute(
        "CREATE FUNCTION qa_turns_search() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.search := to_tsvector(qa_ts_config((SELECT language FROM interactions "
        "WHERE id = NEW.interaction_id)), NEW.text) || to_tsvector('simple', qa_fold(NEW.text)); "
        "RETURN NEW; END $$"
    )
    op.add_column("turns", sa.Column("search", sa.dialects.postgresql.TSVECTOR))
    op.execute(
        "CREATE TRIGGER turns_search BEFORE INSERT OR UPDATE OF text ON turns "
        "FOR EACH ROW EXECUTE FUNCTION qa_turns_search()"
    )
    op.execute("UPDATE turns SET text = text")  # fills search for existing rows
    op.execute("CREATE INDEX ix_turns_search ON turns USING gin (search)")


def downgrade() -> None:
    raise NotImplementedError("0002 cannot be undone: restore the database from a backup instead")
