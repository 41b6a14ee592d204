"""Data ingestion: every source (notes, git, AI chats, social media, photos) into DataPoints, then into memories.

Adapters (``ingest.adapters``) stream :class:`~personal_memory.ingest.datapoint.DataPoint` objects out of
real export formats; ``extraction`` turns them into candidate memories; ``pipeline`` stores them through
``MemoryService.remember_many`` with a run ledger that makes re-runs add nothing.
"""
