from pathlib import Path

import pytest

from shop.domain.program import Program, load_program


@pytest.fixture(scope="session")
def program() -> Program:
    """The real program data file, so the tests check the numbers the shop enforces."""
    return load_program(Path(__file__).parents[2] / "content" / "program.toml")
