"""The workflow's Lambda functions, one folder each (a package here only so tests can import them)."""
