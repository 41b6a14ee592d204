"""Personal language model: training data, LoRA fine-tuning, distillation, the sidecar trainer.

Heavy libraries (torch, transformers, peft) are imported inside functions only.
"""
