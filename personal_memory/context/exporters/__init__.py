"""One small module per target LLM; each turns a ``PersonalContext`` into text for that target."""
