"""Use cases, one function each, given a ServiceContext; no Qt, no SQL text."""
