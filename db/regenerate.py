"""Rewrite the single initial migration from the models (development only, before release).

Run with `make migration`. Once a release has shipped, add new revisions instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from db.engine import create_database_engine
from db.schema import alembic_config, migrations_dir

INITIAL = "0001"


def main() -> None:
    versions = migrations_dir() / "versions"
    for old in versions.glob(f"{INITIAL}_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_database_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(
            alembic_config(engine), message="initial schema", autogenerate=True, rev_id=INITIAL
        )
        engine.dispose()
    print(f"wrote {next(versions.glob(f'{INITIAL}_*.py'))}")


if __name__ == "__main__":
    main()
