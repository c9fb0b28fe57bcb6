DATE_FORMAT = "j F Y"  # 5 décembre 2026
# The French typographic convention for the hour (Imprimerie nationale): 14 h 30.
DATETIME_FORMAT = r"j F Y, H \h i T"  # 5 décembre 2026, 14 h 30 UTC
