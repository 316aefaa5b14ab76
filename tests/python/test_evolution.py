"""The evolution search with Python and built-in evaluators."""

import json
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import mcunet

mcunet.set_log_level("warning")

SMALL = dict(board="stm32f412", population_size=8, generations=2, seed=11)


def macs_fitness(archs):
    return [mcunet.count(a).macs / 1e6 for a in archs]


def test_python_evaluator_matches_builtin(small_space):
    batches = []

    def ev(archs):
        assert all(isinstance(a, mcunet.Arch) for a in archs)
        batches.append(len(archs))
        return macs_fitness(archs)

    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=ev, **SMALL)
    assert s.done and s.generations_done == 2
    assert batches and max(batches) <= 8 and sum(batches) == len(s.history) == 8 * 3
    builtin = mcunet.evolution_search(small_space, (0.5, 32), evaluator="macs", **SMALL)
    # Same seed, same fitness: the same search, candidate for candidate.
    assert [c.genes for c in s.history] == [c.genes for c in builtin.history]
    best = s.best()
    assert best.fitness == pytest.approx(max(c.fitness for c in s.history))
    arch = s.best_arch()
    assert mcunet.count(arch).macs == best.macs
    assert arch.resolution == 32
    assert best.peak_sram_bytes <= mcunet.board("stm32f412").sram_bytes
    assert mcunet.cost(arch, "stm32f412").peak_sram_bytes == best.peak_sram_bytes
    assert s.config.evaluator["kind"] == "python"
    assert "peak SRAM" in s.constraints


def test_history_and_stats(small_space, tmp_path):
    progress = []
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=macs_fitness, out_dir=tmp_path,
                                progress=progress.append, **SMALL)
    assert [p.generation for p in progress] == [0, 1, 2]
    assert [st.generation for st in s.stats] == [0, 1, 2]
    rows = s.history_dicts()
    assert len(rows) == len(s.history)
    assert {"generation", "fitness", "macs", "peak_sram_bytes", "latency_ms", "genes"} <= set(rows[0])
    for name in ("best_arch.json", "history.json", "history.csv", "summary.json", "checkpoint.json"):
        assert (tmp_path / name).exists(), name
    assert mcunet.Arch.load(tmp_path / "best_arch.json") == s.best_arch()
    assert json.loads((tmp_path / "summary.json").read_text()) == s.summary()
    c = s.history[0]
    assert s.decode(c).resolution == 32
    assert s.cost(c.genes)["macs"] == c.macs
    assert s.violation(c.genes) is None


def test_resume_equals_uninterrupted(small_space, tmp_path):
    full = mcunet.evolution_search(small_space, (0.5, 32), evaluator=macs_fitness, **SMALL)
    cfg = full.config.to_dict()
    cfg["space"] = small_space.source
    part = mcunet.EvolutionSearch(cfg, evaluator=macs_fitness, out_dir=tmp_path)
    part.step()
    part.step()  # initial population + one generation, checkpointed
    assert part.generations_done == 1
    with pytest.raises(ValueError, match="Python evaluator"):
        mcunet.EvolutionSearch.resume(tmp_path)
    resumed = mcunet.EvolutionSearch.resume(tmp_path, evaluator=macs_fitness)
    assert resumed.generations_done == 1
    resumed.run()
    assert [c.genes for c in resumed.history] == [c.genes for c in full.history]
    assert resumed.best().id == full.best().id


def test_failures_are_recorded(small_space):
    def flaky(archs):
        out = []
        for a in archs:
            h = int(mcunet.arch_hash(a), 16) % 4  # a deterministic 1 in 4 of each kind
            if h == 0:
                raise RuntimeError(f"cannot evaluate {mcunet.arch_hash(a)}")
            out.append(None if h == 1 else mcunet.count(a).macs / 1e6)
        return out

    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=flaky, **SMALL)
    failed = [c for c in s.history if c.failed]
    ok = [c for c in s.history if not c.failed]
    assert failed and ok
    assert all(c.fitness is None for c in failed)
    assert any("RuntimeError: cannot evaluate" in c.error for c in failed)
    assert any("NaN" in c.error for c in failed)
    assert s.best().fitness == max(c.fitness for c in ok)


def test_on_error_raise_and_interrupt(small_space):
    def broken(archs):
        raise ValueError("evaluator exploded")

    with pytest.raises(ValueError, match="evaluator exploded"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=broken, on_error="raise", **SMALL)

    def interrupted(archs):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=interrupted, **SMALL)
    with pytest.raises(ValueError, match="on_error"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator=broken, on_error="ignore", **SMALL)


def test_wrong_return_is_a_failure(small_space):
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=lambda archs: [1.0],
                                **{**SMALL, "generations": 0})
    # A batch of 8 answered with one value: re-evaluated one by one, which then works.
    assert len(s.history) == 8 and not any(c.failed for c in s.history)


def test_searches_in_threads(small_space):
    """The GIL is released while C++ runs and re-acquired for the callback."""
    threads = set()

    def ev(archs):
        threads.add(threading.current_thread().name)
        return macs_fitness(archs)

    def run(seed):
        s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=ev, **{**SMALL, "seed": seed})
        return [c.genes for c in s.history]

    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(run, [1, 2, 1]))
    assert got[0] == got[2] and got[0] != got[1]
    assert len(threads) >= 1


def test_config_errors(small_space, tmp_path):
    with pytest.raises(ValueError, match="populaton_size: unknown field"):
        mcunet.evolution_search(small_space, (0.5, 32), populaton_size=4)
    with pytest.raises(ValueError, match="fps"):
        mcunet.evolution_search(small_space, (0.5, 32), latency_ms=100, fps=5, **SMALL)
    with pytest.raises(ValueError):
        mcunet.evolution_search(small_space, (0.55, 32), **SMALL)  # W not in the space
    with pytest.raises(ValueError, match="unknown evaluator"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator="nope", **SMALL)
    with pytest.raises(FileNotFoundError, match="acc.json"):
        mcunet.evolution_search(small_space, (0.5, 32), evaluator={"kind": "table", "path": str(tmp_path / "acc.json")},
                                **SMALL)
    with pytest.raises(FileNotFoundError):
        mcunet.EvolutionSearch.resume(tmp_path / "nothing-here")


def test_constraints_and_table_evaluator(small_space, tmp_path):
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator="macs", peak_sram_kb=40, fps=10, **SMALL)
    for c in s.history:
        assert c.peak_sram_bytes <= 40 * 1024 and c.latency_ms <= 100.0 + 1e-9
    # An accuracy table keyed by arch_hash.
    entries = {mcunet.arch_hash(s.decode(c)): 0.5 + 0.01 * i for i, c in enumerate(s.history)}
    table = tmp_path / "acc.json"
    table.write_text(json.dumps({"schema_version": 1, "kind": "accuracy_table", "entries": entries}))
    t = mcunet.evolution_search(small_space, (0.5, 32), evaluator={"kind": "table", "path": str(table)},
                                peak_sram_kb=40, fps=10, **{**SMALL, "generations": 0})
    assert all(c.failed or not math.isnan(c.fitness) for c in t.history)


def test_plots_from_history(small_space, tmp_path):
    pytest.importorskip("matplotlib")
    import mcunet.plot as mplot
    s = mcunet.evolution_search(small_space, (0.5, 32), evaluator=macs_fitness, **SMALL)
    for fig, name in ((mplot.pareto(s.history_dicts()), "p.png"),
                      (mplot.pareto(s.history, x="macs"), "m.png"),
                      (mplot.evolution_progress(s.history_dicts()), "e.png")):
        fig.savefig(tmp_path / name, dpi=50)
        assert (tmp_path / name).stat().st_size > 1000
