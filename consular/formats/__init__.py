"""One way to write a date per language on every page (FORMAT_MODULE_PATH): the day, the
month in words, the year, then the time on the 24-hour clock and its zone, which is never left
for the reader to guess. Django's own formats fill in the rest."""
