"""The fan-out benchmark (`make bench`) and the local stand-ins for the email and SMS providers
it and the tests send to. Not a Django app and never imported by one: it runs the product's
code from outside, as `python -m bench`."""
