"""Vision transforms: per-sample classes and the vectorized batch forms."""

import numpy as np
import pytest

import shendu
from shendu import Tensor
from shendu.random import Generator
from shendu.vision import transforms as T

B = T.batch


def img_hwc(h=8, w=10, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def batch_nhwc(n=5, h=8, w=10, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


# -- conversion and normalization ------------------------------------------------------------------
def test_to_tensor():
    x = img_hwc()
    t = T.ToTensor()(x)
    assert isinstance(t, Tensor) and t.shape == (3, 8, 10) and t.dtype == np.float32
    assert np.allclose(t.numpy(), x.transpose(2, 0, 1) / 255.0)
    assert T.ToTensor()(x[..., 0]).shape == (1, 8, 10)
    f = np.full((2, 2), 3.5, np.float32)  # float images keep their values
    assert T.ToTensor()(f).numpy().max() == 3.5
    with pytest.raises(TypeError, match="already converted"):
        T.ToTensor()(t)
    bt = B.to_tensor(batch_nhwc())
    assert bt.shape == (5, 3, 8, 10) and np.allclose(bt.numpy()[2], T.ToTensor()(
        batch_nhwc()[2]).numpy())


def test_normalize():
    t = Tensor(np.stack([np.full((2, 2), 0.5), np.full((2, 2), 1.0)]).astype(np.float32))
    out = T.Normalize((0.5, 0.25), (0.5, 0.25))(t)
    assert isinstance(out, Tensor) and out.dtype == np.float32
    assert np.allclose(out.numpy()[0], 0.0) and np.allclose(out.numpy()[1], 3.0)
    hwc = np.ones((2, 2, 2), np.float32)  # arrays are channels-last
    assert np.allclose(T.Normalize((0.0, 1.0), (2.0, 1.0))(hwc), [0.5, 0.0])
    with pytest.raises(TypeError, match="float"):
        T.Normalize((0.5,), (0.5,))(img_hwc())
    x = np.random.default_rng(0).random((4, 3, 5, 5)).astype(np.float32)
    out = B.normalize(x, (0.1, 0.2, 0.3), (1.0, 2.0, 4.0))
    assert np.allclose(out[:, 1], (x[:, 1] - 0.2) / 2.0)
    with pytest.raises(ValueError, match="zero"):
        B.normalize(x, 0, 0)


# -- flips and crops -------------------------------------------------------------------------------
def test_flips():
    x = img_hwc()
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(x), x[:, ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    assert np.array_equal(T.RandomVerticalFlip(p=1.0)(x), x[::-1])
    t = Tensor(x.transpose(2, 0, 1).astype(np.float32))
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[:, :, ::-1])
    xb = batch_nhwc()
    mask = np.array([True, False, True, False, False])
    out = B.flip(xb, horizontal=mask, layout="NHWC")
    assert np.array_equal(out[0], xb[0, :, ::-1]) and np.array_equal(out[1], xb[1])
    nchw = xb.transpose(0, 3, 1, 2)
    assert np.array_equal(B.flip(nchw, horizontal=mask).transpose(0, 2, 3, 1), out)
    both = B.random_flip(xb, "horizontal_and_vertical", p=1.0, layout="NHWC")
    assert np.array_equal(both, xb[:, ::-1, ::-1])
    ramp = np.broadcast_to(np.array([0, 1]).reshape(1, 1, 2, 1), (2000, 1, 2, 1))
    flipped = B.random_flip(ramp, p=0.3, layout="NHWC")
    assert 0.25 < (flipped[:, 0, 0, 0] == 1).mean() < 0.35
    with pytest.raises(ValueError, match="mode"):
        B.random_flip(xb, "diagonal")


def test_random_crop():
    x = img_hwc(8, 8)
    for _ in range(10):
        out = T.RandomCrop(8, padding=2)(x)
        assert out.shape == x.shape and out.dtype == np.uint8
        padded = np.pad(x, ((2, 2), (2, 2), (0, 0)))
        windows = [padded[i:i + 8, j:j + 8] for i in range(5) for j in range(5)]
        assert any(np.array_equal(out, w) for w in windows)
    assert T.RandomCrop((4, 6))(x).shape == (4, 6, 3)
    assert T.RandomCrop(12, pad_if_needed=True)(x).shape == (12, 12, 3)
    assert T.RandomCrop(8, padding=3, padding_mode="reflect")(x).shape == (8, 8, 3)
    edge = T.RandomCrop(8, padding=(1, 0), fill=255)(np.zeros((8, 8), np.uint8))
    assert set(np.unique(edge)) <= {0, 255}
    with pytest.raises(ValueError, match="larger than"):
        T.RandomCrop(9)(x)


def test_crop_batch_matches_per_sample_windows():
    xb = batch_nhwc(4, 10, 12)
    top, left = np.array([0, 3, 1, 2]), np.array([5, 0, 2, 4])
    out = B.crop(xb, top, left, (6, 7), layout="NHWC")
    for i in range(4):
        assert np.array_equal(out[i], xb[i, top[i]:top[i] + 6, left[i]:left[i] + 7])
    g1, g2 = Generator(3), Generator(3)
    one = T.RandomCrop(8, padding=4, generator=g1)(xb[0])
    assert np.array_equal(one, B.random_crop(xb[:1], 8, padding=4, layout="NHWC",
                                             generator=g2)[0])


def test_center_crop_and_resize():
    a = np.arange(36).reshape(6, 6)
    assert np.array_equal(T.CenterCrop(2)(a), a[2:4, 2:4])
    assert np.array_equal(T.CenterCrop((4, 2))(a), a[1:5, 2:4])
    padded = T.CenterCrop(8)(a)
    assert padded.shape == (8, 8) and np.array_equal(padded[1:7, 1:7], a)
    x = img_hwc(8, 16)
    assert T.Resize(4)(x).shape == (4, 8, 3)  # smaller edge -> 4, aspect kept
    assert T.Resize((5, 7))(x).shape == (5, 7, 3)
    assert T.Resize(4, max_size=6)(x).shape == (3, 6, 3)
    up = T.Resize((16, 32), interpolation="nearest")(x)
    assert np.array_equal(up, x.repeat(2, axis=0).repeat(2, axis=1))
    f = x.astype(np.float32)
    down = T.Resize((4, 8))(f)  # bilinear halving averages 2x2 blocks
    assert np.allclose(down, f.reshape(4, 2, 8, 2, 3).mean(axis=(1, 3)))
    assert T.Resize((4, 8))(x).dtype == np.uint8
    with pytest.raises(ValueError, match="bicubic"):
        T.Resize(4, interpolation="bicubic")


def test_resize_matches_torch_bilinear():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 7, 9)).astype(np.float32)
    for size in ((13, 5), (4, 4), (7, 18)):
        ours = B.resize(x, size)
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                              align_corners=False, antialias=False).numpy()
        assert np.allclose(ours, ref, atol=1e-5), size


# -- affine ----------------------------------------------------------------------------------------
def test_rotation_by_right_angles_is_exact():
    x = img_hwc(6, 6)
    assert np.array_equal(T.RandomRotation((90, 90))(x), np.rot90(x))  # counter-clockwise
    assert np.array_equal(T.RandomRotation((180, 180))(x), x[::-1, ::-1])
    assert np.array_equal(T.RandomRotation((0, 0), interpolation="bilinear")(x), x)
    t = Tensor(x.transpose(2, 0, 1).copy())
    assert np.array_equal(T.RandomRotation((-90, -90))(t).numpy(),
                          np.rot90(x, -1).transpose(2, 0, 1))
    with pytest.raises(ValueError, match="expand"):
        T.RandomRotation(10, expand=True)


def test_affine_translate_scale_and_fill():
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5, 1)
    m = B.affine_matrices((5, 5), [0.0], translate=([2.0], [-1.0]))
    out = B.affine(x, m, fill=-1, layout="NHWC")[0, :, :, 0]
    want = np.full((5, 5), -1.0, np.float32)
    want[:4, 2:] = x[0, 1:, :3, 0]
    assert np.array_equal(out, want)
    assert np.array_equal(B.affine(x, m, "bilinear", fill=-1, layout="NHWC")[0, :, :, 0], want)
    zoom = B.affine(x, B.affine_matrices((5, 5), [0.0], scale=[2.0]), layout="NHWC")
    assert zoom[0, 2, 2, 0] == x[0, 2, 2, 0]  # the center stays
    m3 = B.affine_matrices((5, 5), [0.0], shear=([0.0], [0.0]), center=(0, 0))
    assert np.allclose(m3, [[[1, 0, 0], [0, 1, 0]]])


def test_affine_bilinear_matches_torch_grid_sample():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((3, 2, 9, 9)).astype(np.float32)
    angles = np.array([17.0, -40.0, 95.0])
    m = B.affine_matrices((9, 9), angles)
    ours = B.affine(x, m, interpolation="bilinear")
    # On a square image, pixel coordinates about the center are torch's normalized coordinates
    # (align_corners=False) scaled, so the rotation part of the inverse is torch's theta.
    theta = torch.from_numpy(np.concatenate([m[:, :, :2], np.zeros((3, 2, 1))], -1)).float()
    grid = torch.nn.functional.affine_grid(theta, (3, 2, 9, 9), align_corners=False)
    ref = torch.nn.functional.grid_sample(torch.from_numpy(x), grid, mode="bilinear",
                                          padding_mode="zeros", align_corners=False).numpy()
    assert np.allclose(ours, ref, atol=1e-5)


def test_random_affine_per_sample_and_batch_agree():
    xb = batch_nhwc(6, 12, 12)
    kw = dict(degrees=30, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-10, 10, -5, 5))
    one = T.RandomAffine(**kw, generator=Generator(7))(xb[0])
    same = B.random_affine(xb[:1], **kw, layout="NHWC", generator=Generator(7))[0]
    assert np.array_equal(one, same)
    angles, tx = np.array([5.0, -20, 33, 0, 90, 180]), np.arange(6.0) - 3
    s = np.linspace(0.8, 1.2, 6)
    m = B.affine_matrices((12, 12), angles, translate=(tx, -tx), scale=s, shear=(angles / 9, 0))
    whole = B.affine(xb, m, "bilinear", fill=(1, 2, 3), layout="NHWC")
    for i in range(6):
        single = B.affine(xb[i:i + 1], m[i:i + 1], "bilinear", fill=(1, 2, 3), layout="NHWC")
        assert np.array_equal(whole[i], single[0])
    assert whole.dtype == np.uint8
    rot = B.random_rotation(xb.transpose(0, 3, 1, 2), 45, generator=Generator(1))
    rot_hwc = B.random_rotation(xb, 45, layout="NHWC", generator=Generator(1))
    assert np.array_equal(rot.transpose(0, 2, 3, 1), rot_hwc)


# -- color and erasing -----------------------------------------------------------------------------
def test_color_adjustments():
    x = batch_nhwc(3, 4, 4).astype(np.float32) / 255
    assert np.allclose(B.adjust(x, brightness=[0.5, 1, 1], layout="NHWC")[0], x[0] * 0.5)
    flat = B.adjust(x, contrast=[0.0, 1, 1], layout="NHWC")[0]
    assert np.allclose(flat, flat[0, 0, 0])  # contrast 0: one gray level everywhere
    gray = B.adjust(x, saturation=[0.0, 0, 0], layout="NHWC")
    assert np.allclose(gray[..., 0], gray[..., 1])
    assert np.array_equal(B.adjust(x, [1, 1, 1], [1, 1, 1], [1, 1, 1], layout="NHWC"), x)
    u8 = T.ColorJitter(brightness=(3, 3))(img_hwc())
    assert u8.dtype == np.uint8 and u8.max() == 255  # clipped, not wrapped
    same = T.ColorJitter(0.4, 0.4, 0.4, generator=Generator(2))(img_hwc())
    assert np.array_equal(same, B.color_jitter(img_hwc()[None], 0.4, 0.4, 0.4, layout="NHWC",
                                               generator=Generator(2))[0])
    with pytest.raises(ValueError, match="hue"):
        T.ColorJitter(hue=0.1)


def test_random_erasing():
    t = Tensor(np.ones((3, 20, 20), np.float32))
    out = T.RandomErasing(p=1.0, value=0)(t).numpy()
    erased = out == 0
    assert erased.any() and (erased[0] == erased[1]).all()
    rows, cols = np.nonzero(erased[0])
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert erased[0].sum() == h * w  # one box
    assert 0.02 * 400 * 0.5 <= h * w <= 0.33 * 400 * 1.5
    assert np.array_equal(T.RandomErasing(p=0.0)(t).numpy(), t.numpy())
    per_channel = T.RandomErasing(p=1.0, value=(5, 6, 7))(t).numpy()
    assert set(np.unique(per_channel[2])) == {1.0, 7.0}
    noisy = T.RandomErasing(p=1.0, value="random")(t).numpy()
    assert (noisy != 1).any()
    xb = np.ones((4, 3, 10, 10), np.float32)
    m = B.erase(xb, [0, 1, 2, 3], [0, 0, 5, 5], 2, 3, value=9, mask=[True, True, False, True])
    assert (m[0, :, :2, :3] == 9).all() and (m[2] == 1).all() and (m[3, :, 3:5, 5:8] == 9).all()
    assert (m == 9).sum() == 3 * 3 * 6
    one = T.RandomErasing(p=0.7, generator=Generator(4))(t).numpy()
    same = B.random_erasing(t.numpy()[None], p=0.7, generator=Generator(4))[0]
    assert np.array_equal(one, same)


# -- composition, seeding, types -------------------------------------------------------------------
PIPELINE = [T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.RandomRotation(20),
            T.RandomAffine(10, translate=(0.1, 0.1)), T.ColorJitter(0.3, 0.3, 0.3),
            T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
            T.RandomErasing()]


def test_seeding_makes_transforms_reproducible():
    t = T.Compose(PIPELINE)
    x = img_hwc(8, 8)
    shendu.manual_seed(11)
    a = [t(x).numpy() for _ in range(3)]
    shendu.manual_seed(11)
    b = [t(x).numpy() for _ in range(3)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], a[1])
    assert a[0].shape == (3, 8, 8) and a[0].dtype == np.float32
    xb = batch_nhwc(8, 8, 8)
    shendu.manual_seed(3)
    c = B.random_affine(xb, 30, translate=(0.1, 0.1), layout="NHWC")
    shendu.manual_seed(3)
    assert np.array_equal(c, B.random_affine(xb, 30, translate=(0.1, 0.1), layout="NHWC"))


def test_compose_lambda_repr_and_tensors_in_batch_forms():
    t = T.Compose([T.Lambda(lambda x: x + 1), T.CenterCrop(2)])
    assert t(np.zeros((4, 4), np.int64)).tolist() == [[1, 1], [1, 1]]
    assert "CenterCrop(size=(2, 2))" in repr(t) and "Lambda" in repr(t)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
    xt = Tensor(np.zeros((2, 3, 8, 8), np.float32))
    for out in (B.random_crop(xt, 6), B.random_flip(xt), B.random_affine(xt, 10),
                B.resize(xt, 4), B.color_jitter(xt, 0.5), B.random_erasing(xt),
                B.center_crop(xt, 4)):
        assert isinstance(out, Tensor) and out.shape[:2] == (2, 3)
    assert B.random_crop(np.zeros((3, 8, 8)), 4).shape == (3, 4, 4)  # (N, H, W) batches
    with pytest.raises(ValueError, match="layout"):
        B.random_crop(xt, 4, layout="CHW")


def test_batch_speed_is_vectorized():
    """A batch of 256 CIFAR-sized images goes through crop+flip+affine in well under a
    second: no Python loop over samples."""
    import time

    xb = np.zeros((256, 32, 32, 3), np.uint8)
    start = time.perf_counter()
    y = B.random_crop(xb, 32, padding=4, layout="NHWC")
    y = B.random_flip(y, layout="NHWC")
    y = B.random_affine(y, 15, translate=(0.1, 0.1), interpolation="bilinear", layout="NHWC")
    assert y.shape == xb.shape and time.perf_counter() - start < 1.0
