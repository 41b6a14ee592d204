"""Context injection: the user's personal context, built from memories and formatted for an LLM."""
