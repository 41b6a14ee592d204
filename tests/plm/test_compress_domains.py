"""Domain activation tracking: shares from the trainer's counts, keep / prune decisions, texts per side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from personal_memory.cli import main
from personal_memory.plm.compress.domains import Decision, generic_text, plan_domains, split_memories
from personal_memory.plm.trainer.extraction import extract
from personal_memory.plm.trainer.store import TrainerStore
from personal_memory.pms.interaction_log import InteractionLog
from personal_memory.pms.paths import DataPaths
from personal_memory.pms.schema import MemoryEntry, utcnow

SEED_EXAMPLE = {"drupal": 450, "python": 300, "government": 150, "react": 80, "medicine": 2, "law": 5, "cooking": 13}


def test_domains_above_five_percent_are_kept_and_below_one_percent_are_pruning_candidates() -> None:
    plan = plan_domains(SEED_EXAMPLE)
    assert plan.total == 1000
    assert plan.named(Decision.KEEP) == ["drupal", "python", "government", "react"]
    shares = {d.domain: d for d in plan.domains}
    assert shares["drupal"].share == pytest.approx(0.45)
    assert shares["medicine"].decision is Decision.PRUNE and shares["law"].decision is Decision.PRUNE
    assert shares["cooking"].decision is Decision.NEUTRAL  # 1.3 %: between the two thresholds
    assert shares["music"].count == 0 and shares["music"].decision is Decision.PRUNE  # never activated


def test_thresholds_are_configurable_and_must_be_ordered() -> None:
    plan = plan_domains(SEED_EXAMPLE, keep_above=0.2, prune_below=0.02)
    assert plan.named(Decision.KEEP) == ["drupal", "python"]
    assert {"cooking", "law"} <= set(plan.named(Decision.PRUNE))
    with pytest.raises(ValueError, match="must not exceed"):
        plan_domains(SEED_EXAMPLE, keep_above=0.01, prune_below=0.05)


def test_without_any_activation_nothing_is_pruned() -> None:
    plan = plan_domains({})
    assert plan.total == 0 and not plan.named(Decision.PRUNE) and not plan.named(Decision.KEEP)


def test_memories_only_in_pruned_domains_are_pruned_data_and_other_pruned_domains_get_generic_text() -> None:
    plan = plan_domains({"drupal": 90, "music": 0, "health": 0})
    drupal = MemoryEntry(content="I build Drupal sites", domains=["drupal"])
    guitar = MemoryEntry(content="I play jazz guitar", domains=["music"])
    mixed = MemoryEntry(content="I code to music", domains=["music", "programming"])  # programming: never seen
    unlabelled = MemoryEntry(content="I am Sam")
    keep_ids, texts = split_memories([drupal, guitar, mixed, unlabelled], plan)
    assert str(drupal.id) in keep_ids and str(unlabelled.id) in keep_ids and str(guitar.id) not in keep_ids
    assert str(mixed.id) not in keep_ids  # programming was never activated either: both its domains are pruned
    assert texts["music"] == ["I play jazz guitar", "I code to music"]
    assert texts["health"] == [generic_text("health")] and "doctor" in texts["health"][0]


def test_pmem_train_domains_shows_the_activations_the_trainer_counted_from_the_interaction_log(
    isolated_home: Path,
) -> None:
    paths = DataPaths(isolated_home)
    log, store = InteractionLog(paths.interactions), TrainerStore(paths.trainer)
    queries = ["How do I theme my Drupal site?"] * 9 + ["What is my favourite jazz album?"]
    for query in queries:
        log.append(utcnow(), "recall", {"query": query}, {"memories": []}, [])
    for interaction in log.read():
        store.apply(interaction.seq, extract(interaction), utcnow())
    store.close()
    log.close()

    runner = CliRunner()
    result = runner.invoke(main, ["train", "domains"])
    assert result.exit_code == 0, result.output
    assert "drupal" in result.stdout and "90.0%" in result.stdout and "keep (> 5%): drupal, music" in result.stdout
    data = json.loads(runner.invoke(main, ["train", "domains", "--json", "--keep-above", "0.5"]).stdout)
    decisions = {d["domain"]: d["decision"] for d in data["domains"]}
    assert data["total"] == 10 and decisions["drupal"] == "keep" and decisions["music"] == "neutral"
    assert decisions["travel"] == "prune"
    bad = runner.invoke(main, ["train", "domains", "--keep-above", "0.01", "--prune-below", "0.5"])
    assert bad.exit_code == 2 and "must not exceed" in bad.stderr
