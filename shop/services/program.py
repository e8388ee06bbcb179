"""The program data file, loaded once per app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from shop.domain.program import Program, load_program


def init_app(app: Flask) -> None:
    app.extensions["program"] = load_program(Path(app.config["PROGRAM_FILE"]))


def current() -> Program:
    result: Program = current_app.extensions["program"]
    return result
