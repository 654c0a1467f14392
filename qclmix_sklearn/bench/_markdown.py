"""Markdown formatting shared by the report's sections."""

import numpy as np


def fmt(value, digits=3):
    """``value`` with ``digits`` decimals; "—" when missing (None or NaN), never 0."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—" if value is None or np.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value:.{digits}f}"


def pvalue(p):
    """A p-value: 4 decimals, or scientific notation below 0.001; "—" when missing."""
    if p is None or not np.isfinite(p):
        return "—"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


def markdown_table(header, rows):
    """A Markdown table of ``rows`` (lists of cells) under ``header``; a ``|`` in a cell is
    escaped (it would end the cell)."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), "|" + "|".join("---" for _ in header) + "|",
                      *(line(row) for row in rows)])
