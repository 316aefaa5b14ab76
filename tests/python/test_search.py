"""Search spaces, seeded variation and sweeps through Python."""

import copy
import pickle

import numpy as np
import pytest

import mcunet


def test_shipped_spaces(mcunet_space):
    assert {"mcunet", "fmnist_small"} <= set(mcunet.search_space_names())
    sp = mcunet.search_space("mcunet")
    assert sp.name == "mcunet" and sp.num_subspaces == 108 == len(sp.subspaces())
    assert sp.to_dict() == mcunet_space.to_dict()
    assert mcunet.SearchSpace.from_dict(sp.to_dict()).num_slots == sp.num_slots
    assert sp.width_multipliers[0] == pytest.approx(0.2) and sp.resolutions[-1] == 224


def test_rng_is_deterministic_and_saveable():
    a, b = mcunet.Rng(42), mcunet.Rng(42)
    assert [a.next() for _ in range(5)] == [b.next() for _ in range(5)]
    state = a.to_dict()
    x = [a.below(10) for _ in range(20)]
    c = mcunet.Rng.from_dict(state)
    assert [c.below(10) for _ in range(20)] == x
    d = pickle.loads(pickle.dumps(a))
    assert d == a and d.next() == a.next()
    assert copy.copy(a) == a
    assert 0.0 <= a.uniform() < 1.0


def test_sample_decode_encode(mcunet_space):
    sp = mcunet_space
    g1 = sp.sample(mcunet.Rng(7))
    assert g1 == sp.sample(7)  # an int seed is a fresh Rng(seed)
    assert len(g1.depths) == sp.num_stages and len(g1.kernels) == sp.num_slots
    sub = mcunet.SubSpace(0.5, 160)
    arch = sp.decode(sub, g1)
    assert arch.resolution == 160 and arch.name == "mcunet-w0.5-r160"
    assert sp.decode((0.5, 160), g1) == arch  # tuples convert
    assert sp.encode(sub, arch) == g1
    assert sp.match_subspace(arch) == sub
    assert mcunet.Genes.from_dict(g1.to_dict()) == g1
    assert hash(g1) == hash(mcunet.Genes(g1.depths, g1.kernels, g1.expands))
    assert sub.label == "w0.5-r160" and tuple(sub) == (0.5, 160)


def test_mutate_and_crossover_are_seeded(mcunet_space):
    sp = mcunet_space
    a, b = sp.sample(1), sp.sample(2)
    m1 = sp.mutate(a, 0.5, mcunet.Rng(3))
    assert m1 == sp.mutate(a, 0.5, mcunet.Rng(3))
    assert sp.mutate(a, 0.0, mcunet.Rng(3)) == a
    c = sp.crossover(a, b, mcunet.Rng(4))
    assert c == sp.crossover(a, b, mcunet.Rng(4))
    for i, d in enumerate(c.depths):
        assert d in (a.depths[i], b.depths[i])
    sp.validate_genes(m1)
    sp.validate_genes(c)


def test_encode_zoo_outside_space_names_choice(mcunet_space, zoo_dir):
    a = mcunet.Arch.load(zoo_dir / "mbv2-w0.35-r144_imagenet.json")
    with pytest.raises(ValueError):
        mcunet_space.encode((0.3, 144), a)


def test_sweep_small(small_space):
    calls = []
    r = mcunet.sweep(small_space, boards=["stm32f412", "stm32f746"], planners=["tinyengine", "tflm"],
                     samples=16, seed=5, threads=2, progress=lambda done, total: calls.append((done, total)))
    assert r.samples == 16 and r.seed == 5 and len(r.cases) == 4
    assert calls and calls[-1][0] == calls[-1][1]
    case = r.case("stm32f746", "tinyengine")
    assert case.board.name == "stm32f746" and case.planner == "tinyengine"
    assert len(case.subspaces) == small_space.num_subspaces
    best = case.best_stats
    assert best is not None and best.rank == 0
    assert best.mean_macs == max(s.mean_macs for s in case.subspaces)
    for s in case.subspaces:
        macs = s.fitting_macs
        assert isinstance(macs, np.ndarray) and len(macs) == s.fitting <= s.samples == 16
        assert np.all(np.diff(macs) >= 0)
        if s.fitting:
            assert s.mean_macs == pytest.approx(macs.mean())
    d = r.to_dict()
    assert d["kind"] == "sweep"
    assert "stm32f746" in r.comparison_table()
    assert r.to_csv().count("\n") >= 4 * small_space.num_subspaces
    with pytest.raises(KeyError):
        r.case("stm32h743", "tinyengine")


def test_sweep_reproducible_across_threads(small_space, tmp_path):
    one = mcunet.sweep(small_space, boards="stm32f412", samples=12, seed=9, threads=1)
    two = mcunet.sweep(small_space, boards="stm32f412", samples=12, seed=9, threads=2)
    assert one.to_dict() == two.to_dict()
    one.write(tmp_path / "out")
    assert (tmp_path / "out" / "sweep.json").exists() and (tmp_path / "out" / "sweep.csv").exists()


def test_sweep_progress_exception_is_raised(small_space):
    def boom(done, total):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        mcunet.sweep(small_space, samples=4, progress=boom)


def test_sweep_bad_options(small_space):
    with pytest.raises(ValueError):
        mcunet.sweep(small_space, samples=0)
    with pytest.raises(ValueError, match="planner"):
        mcunet.sweep(small_space, samples=2, planners=["nope"])
    with pytest.raises(ValueError):
        mcunet.sweep(small_space, boards="nope", samples=2)


def test_encode_inverts_decode_in_every_subspace(mcunet_space, small_space):
    """Decode then encode gives genes that decode to the same network, also where two consecutive
    stages have the same width (fmnist_small at W=0.5), which makes the split of blocks ambiguous."""
    for space in (mcunet_space, small_space):
        rng = mcunet.Rng(5)
        for sub in space.subspaces():
            for _ in range(10):
                arch = space.decode(sub, space.sample(rng))
                assert space.decode(sub, space.encode(sub, arch)) == arch, (space.name, sub.label)
