"""The cells and tables a lesson is written with (shared by the ``lesson_NN.py`` files)."""

import textwrap

import nbformat


def md(*parts):
    """A Markdown cell of ``parts`` (texts, each dedented and stripped) between blank lines."""
    texts = (textwrap.dedent(p).strip() for p in parts)
    return nbformat.v4.new_markdown_cell("\n\n".join(t for t in texts if t))


def code(text):
    """A code cell; ``text`` is dedented and stripped."""
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


def table(header, rows):
    """A Markdown table: ``header`` and each row are sequences of cell texts."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)
