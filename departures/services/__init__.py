"""The departures' state changes, one module per aggregate: operations, options, intents,
allocation (the run that makes offers) and offers (their answers and expiry)."""
