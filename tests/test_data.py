"""Datasets, samplers, collate and the DataLoader."""

from collections import namedtuple

import numpy as np
import pytest

import shendu
from shendu.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)
from shendu.random import Generator


def _xy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


class _Pairs(Dataset):
    """A map-style dataset with no fast path: samples are (array, int)."""

    def __init__(self, n=10):
        self.x, self.y = _xy(n)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


# -- datasets ------------------------------------------------------------------------------------
def test_tensor_dataset_items_and_length():
    x, y = _xy(5)
    ds = TensorDataset(shendu.tensor(x), y)
    assert len(ds) == 5
    xi, yi = ds[2]
    assert isinstance(xi, shendu.Tensor) and xi.tolist() == x[2].tolist() and yi.item() == 2


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"same size in the first dimension.*\[4, 3\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_and_concat():
    s = Subset(list(range(10)), [7, 2, 5])
    assert [s[i] for i in range(len(s))] == [7, 2, 5]
    c = ConcatDataset([list("ab"), list("cde")])
    assert len(c) == 5 and [c[i] for i in range(5)] == list("abcde") and c[-1] == "e"
    with pytest.raises(IndexError):
        c[5]
    both = _Pairs(3) + _Pairs(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5 and both[3][1] == 0


def test_random_split_lengths_fractions_and_seed():
    parts = random_split(range(10), [3, 7], generator=Generator(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    shendu.manual_seed(3)
    a = random_split(range(20), [0.8, 0.2])[0].indices
    shendu.manual_seed(3)
    assert random_split(range(20), [0.8, 0.2])[0].indices == a
    with pytest.raises(ValueError, match="add up to 9"):
        random_split(range(10), [4, 5])


# -- samplers ------------------------------------------------------------------------------------
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    perm = list(RandomSampler(range(50), generator=Generator(0)))
    assert sorted(perm) == list(range(50)) and perm != list(range(50))
    assert len(list(RandomSampler(range(5), num_samples=12))) == 12
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=100))
    assert set(drawn) <= {0, 1, 2}
    assert sorted(SubsetRandomSampler([4, 7, 9])) == [4, 7, 9]
    assert set(WeightedRandomSampler([0, 1, 0, 1], num_samples=20)) <= {1, 3}
    bs = BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)
    assert list(bs) == [[0, 1], [2, 3], [4]] and len(bs) == 3
    bs = BatchSampler(range(5), 2, drop_last=True)  # any iterable, chunked in Python
    assert list(bs) == [[0, 1], [2, 3]] and len(bs) == 2
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(5), 0)


# -- collate -------------------------------------------------------------------------------------
def test_default_collate_structures_and_dtypes():
    b = default_collate([(np.ones(2), 1, 0.5), (np.zeros(2), 2, 1.5)])
    assert isinstance(b, list) and len(b) == 3  # tuples give lists, as in PyTorch
    assert b[0].shape == (2, 2) and b[0].dtype == np.float64  # float64 arrays stay float64
    assert b[1].dtype == np.int64 and b[1].tolist() == [1, 2]
    assert b[2].dtype == np.float32  # Python floats take the default dtype
    d = default_collate([{"x": shendu.ones(3), "name": "a"}, {"x": shendu.zeros(3), "name": "b"}])
    assert d["x"].shape == (2, 3) and d["name"] == ["a", "b"]
    Point = namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    nested = default_collate([{"a": [1, (2, 3)]}, {"a": [4, (5, 6)]}])
    assert nested["a"][1][1].tolist() == [3, 6]
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32
    assert default_collate([True, False]).dtype == np.bool_


def test_default_collate_errors():
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(TypeError, match="cannot batch samples of type object"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="different lengths"):
        default_collate([(1, 2), (1,)])


# -- DataLoader ----------------------------------------------------------------------------------
def test_loader_batches_and_len():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert np.array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_loader_drop_last():
    loader = DataLoader(_Pairs(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].shape[0] for b in loader] == [4, 4]
    assert len(DataLoader(_Pairs(8), batch_size=4, drop_last=True)) == 2


def test_fast_path_matches_per_sample_collate():
    x, y = _xy(13)
    ds = TensorDataset(x, y)
    g1, g2 = Generator(5), Generator(5)
    fast = list(DataLoader(ds, batch_size=5, shuffle=True, generator=g1))
    slow = list(DataLoader(ds, batch_size=5, shuffle=True, generator=g2,
                           collate_fn=lambda s: default_collate(s)))
    assert len(fast) == len(slow) == 3
    for f, s in zip(fast, slow):
        assert type(f) is type(s) and len(f) == len(s)
        for a, b in zip(f, s):
            assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())
    sub = Subset(ds, [12, 0, 5])  # a Subset of a TensorDataset takes the fast path too
    (xb, yb), = DataLoader(sub, batch_size=3)
    assert yb.tolist() == [12, 0, 5]


def test_fast_path_does_one_fancy_index_per_tensor(monkeypatch):
    import shendu.data.dataset as dataset_mod

    ds = TensorDataset(*_xy(100))
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-sample"))
    calls = []
    real = dataset_mod._batch_fetcher

    def counting(d):
        fetch = real(d)
        return lambda idx: calls.append(len(idx)) or fetch(idx)

    monkeypatch.setattr("shendu.data.dataloader._batch_fetcher", counting)
    assert len(list(DataLoader(ds, batch_size=32, shuffle=True))) == 4
    assert calls == [32, 32, 32, 4]


def test_shuffle_reproducible_under_manual_seed():
    ds = TensorDataset(*_xy(20))

    def order():
        return np.concatenate([yb.numpy() for _, yb in DataLoader(ds, batch_size=6,
                                                                   shuffle=True)])

    shendu.manual_seed(7)
    a, a2 = order(), order()
    shendu.manual_seed(7)
    b, b2 = order(), order()
    assert np.array_equal(a, b) and np.array_equal(a2, b2)
    assert not np.array_equal(a, a2)  # a new order each epoch
    assert sorted(a.tolist()) == list(range(20))


def test_loader_generator_is_independent_of_global_seed():
    ds = _Pairs(12)
    orders = []
    for seed in (0, 1):
        shendu.manual_seed(seed)
        loader = DataLoader(ds, batch_size=12, shuffle=True, generator=Generator(42))
        orders.append(next(iter(loader))[1].tolist())
    assert orders[0] == orders[1]


def test_dict_samples_and_custom_collate():
    class Dicts(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"image": np.full((2, 2), i, np.uint8), "label": i, "id": f"#{i}"}

    batch = next(iter(DataLoader(Dicts(), batch_size=3)))
    assert batch["image"].shape == (3, 2, 2) and batch["image"].dtype == np.uint8
    assert batch["label"].tolist() == [0, 1, 2] and batch["id"] == ["#0", "#1", "#2"]
    sizes = [len(b) for b in DataLoader(Dicts(), batch_size=2, collate_fn=list)]
    assert sizes == [2, 2, 1]


def test_tuple_samples_plain_dataset():
    x, y = _xy(7)
    batches = list(DataLoader(_Pairs(7), batch_size=3))
    assert [len(b[1]) for b in batches] == [3, 3, 1]
    assert np.array_equal(batches[1][0].numpy(), x[3:6]) and batches[1][1].dtype == np.int64


def test_batch_size_none_and_batch_sampler_and_sampler():
    items = list(DataLoader(_Pairs(3), batch_size=None))
    assert len(items) == 3 and items[1][1] == 1 and isinstance(items[1][0], shendu.Tensor)
    loader = DataLoader(_Pairs(6), batch_sampler=[[0, 5], [1, 2, 3]])
    assert [b[1].tolist() for b in loader] == [[0, 5], [1, 2, 3]] and len(loader) == 2
    loader = DataLoader(_Pairs(6), batch_size=2, sampler=SubsetRandomSampler([1, 3]))
    assert sorted(next(iter(loader))[1].tolist()) == [1, 3]
    with pytest.raises(ValueError, match="exclusive"):
        DataLoader(_Pairs(6), sampler=SequentialSampler(range(6)), shuffle=True)
    with pytest.raises(ValueError, match="exclusive"):
        DataLoader(_Pairs(6), batch_size=2, batch_sampler=[[0]])
    assert len(DataLoader(_Pairs(6), num_workers=4, pin_memory=True)) == 6  # accepted, ignored


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5],
                                                                         [6]]
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_state_dict_resumes_the_epoch_exactly():
    ds = TensorDataset(*_xy(23))
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=Generator(3))
    it = iter(loader)
    seen = [next(it)[1].tolist() for _ in range(2)]
    state = loader.state_dict()
    rest = [b[1].tolist() for b in it]
    next_epoch = [b[1].tolist() for b in loader]
    assert state["sampler"]["position"] == 8 and state["sampler"]["epoch"] == 1
    assert len(state["sampler"]["permutation"]) == 23

    fresh = DataLoader(ds, batch_size=4, shuffle=True, generator=Generator(99))
    fresh.load_state_dict(state)
    assert [b[1].tolist() for b in fresh] == rest  # the rest of the interrupted epoch
    assert [b[1].tolist() for b in fresh] == next_epoch  # and the same next epoch
    assert sorted(sum(seen + rest, [])) == list(range(23))


def test_state_dict_sequential_and_validation():
    loader = DataLoader(_Pairs(10), batch_size=3)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    other = DataLoader(_Pairs(10), batch_size=3)
    other.load_state_dict(state)
    assert [b[1].tolist() for b in other] == [[3, 4, 5], [6, 7, 8], [9]]
    shuffled = DataLoader(_Pairs(10), batch_size=3, shuffle=True)
    bad = {"sampler": {"epoch": 1, "position": 0, "permutation": np.arange(20)}}
    with pytest.raises(ValueError, match="another dataset"):
        shuffled.load_state_dict(bad)


def test_torch_spelling():
    import shendu.utils.data as data

    loader = data.DataLoader(data.TensorDataset(*_xy(4)), batch_size=2)
    assert len(loader) == 2 and data.random_split is random_split and data.Dataset is Dataset


def test_collate_matches_torch_structure():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    samples = [(np.ones(2, np.float32), 1, {"k": 2.0}), (np.zeros(2, np.float32), 2, {"k": 3.0})]
    ours, theirs = default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs) and type(ours[2]) is type(theirs[2])
    assert np.array_equal(ours[0].numpy(), theirs[0].numpy())
    assert ours[1].tolist() == theirs[1].tolist() and theirs[1].dtype == torch.int64
