"""Cells of the CSV files staff export and open in a spreadsheet."""

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """The value, quoted so that a spreadsheet shows it rather than runs it (a name or a text
    a citizen wrote may start with "=")."""
    return "'" + value if value[:1] in FORMULA_STARTS else value
