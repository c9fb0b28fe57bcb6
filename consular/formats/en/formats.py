DATE_FORMAT = "j F Y"  # 5 December 2026
DATETIME_FORMAT = "j F Y, H:i T"  # 5 December 2026, 14:30 UTC
