"""The one YAML configuration file: expansion, schema, cross-field checks, compilation."""
