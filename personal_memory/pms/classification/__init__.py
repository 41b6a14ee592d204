"""Classify memories offline: memory type, truth category, domains and entities."""

from personal_memory.pms.classification.classifier import Classification, LocalClassifier, truth_category_of
from personal_memory.pms.classification.entities import extract_entities

__all__ = ["Classification", "LocalClassifier", "extract_entities", "truth_category_of"]
