"""The sidecar trainer: Titan-style continuous learning from the logged tool calls (SEED.md).

Interaction log -> extraction -> queued learning events -> trigger -> incremental LoRA update ->
evaluate -> keep or roll back -> checkpoint. Runs as its own process (`pmem trainer run`).
"""
