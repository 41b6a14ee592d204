"""User-specific pruning and ZipLLM compression of the personal model (SEED.md phases 3 and 4).

``run_compression(pipeline, memories, domain_counts, options)`` is the whole pass, and the hook the
trainer sidecar's optional pruning pass calls::

    from personal_memory.plm.compress import CompressOptions, run_compression

    report = run_compression(pipeline, list(service.iter_active()), store.domain_counts(), CompressOptions())
    report.lines()  # the table `pmem train compress` prints

Modules: ``domains`` (activation shares, keep / prune decisions), ``importance`` (per head and FFN
neuron), ``prune`` (real shape change), ``recover`` (distillation from the unpruned model),
``quantize`` (4-bit NF4 with CUDA, int4 on CPU), ``report`` (measurements), ``runner`` (the pass).
Heavy libraries are imported inside functions only.
"""

from personal_memory.plm.compress.domains import DomainPlan, plan_domains
from personal_memory.plm.compress.report import CompressionReport
from personal_memory.plm.compress.runner import CompressOptions, run_compression

__all__ = ["CompressOptions", "CompressionReport", "DomainPlan", "plan_domains", "run_compression"]
