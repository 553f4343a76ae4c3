"""Converts a keras-io style tutorial script into a Jupyter notebook (.ipynb).

The format is the one keras.io's `tutobooks` reads: a header docstring
(Title/Author/Date created/Last modified/Description), then alternating code and
triple-quoted markdown blocks. Markdown blocks become markdown cells; code between
them becomes code cells.

Usage:
    python tutorials/to_notebook.py tutorials/vae.py [-o OUT_DIR]
"""

import argparse
import json
import pathlib
import re

HEADER = re.compile(r'^"""\n(.*?)\n"""\n', re.S)


def script_to_cells(source):
    """Splits a tutorial's source into notebook cells (dicts in nbformat 4)."""
    match = HEADER.match(source)
    if not match:
        raise ValueError("A tutorial must start with a header docstring (Title: ...).")
    fields = dict(line.split(": ", 1) for line in match.group(1).splitlines() if ": " in line)
    cells = [
        _markdown(
            f"# {fields.get('Title', '')}\n\n"
            + "\n".join(f"**{key}:** {value}<br>" for key, value in fields.items() if key != "Title")
        )
    ]
    body = source[match.end() :]
    for i, chunk in enumerate(re.split(r'^"""\n?', body, flags=re.M)):
        chunk = chunk.strip("\n")
        if not chunk.strip():
            continue
        cells.append(_markdown(chunk) if i % 2 == 1 else _code(chunk))
    return cells


def _markdown(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code(text):
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": text.splitlines(keepends=True),
    }


def convert(path, out_dir=None):
    """Writes `<name>.ipynb` next to the script (or into `out_dir`); returns its path."""
    path = pathlib.Path(path)
    notebook = {
        "cells": script_to_cells(path.read_text()),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    out = pathlib.Path(out_dir or path.parent) / f"{path.stem}.ipynb"
    out.write_text(json.dumps(notebook, indent=1) + "\n")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="+")
    parser.add_argument("-o", "--out-dir")
    args = parser.parse_args(argv)
    for script in args.scripts:
        print(convert(script, args.out_dir))


if __name__ == "__main__":
    main()
