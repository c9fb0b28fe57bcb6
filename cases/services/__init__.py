"""Safety checks and cases: `safety_checks`, `cases`, and the eraser in `erasure`."""
