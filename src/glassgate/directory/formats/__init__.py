"""File formats in and out of the directory: rules files, JSON, CSV and Okta exports.

Every parser here reads outside input: sizes are capped, every problem is
collected with its location, and a file is used whole or not at all.
"""
