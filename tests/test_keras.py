"""The Keras facade: the seed documents' examples run with only their imports changed and
learn the MNIST sample (4,000 train / 1,000 test digits shipped in the package)."""

import numpy as np
import pytest

import shendu


@pytest.fixture(scope="module")
def mnist():
    (x_train, y_train), (x_test, y_test) = shendu.data.load_sample("mnist")
    x_train = x_train.reshape(-1, 784) / 255.0
    x_test = x_test.reshape(-1, 784) / 255.0
    return x_train, y_train, x_test, y_test


def test_seed_a_import_shendu_as_tf(mnist):
    x_train, y_train, x_test, y_test = mnist
    import shendu as tf

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.models.Sequential([
        tf.keras.layers.Dense(64, activation='relu', input_shape=(784,)),
        tf.keras.layers.Dense(64, activation='relu'),
        tf.keras.layers.Dense(10, activation='softmax')
    ])
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    history = model.fit(x_train, y_train, epochs=5, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc > 0.9, f"test accuracy {acc:.3f}"
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.count_params() == 55050


def test_seed_b_from_keras_imports_with_add_and_old_lr(mnist):
    x_train, y_train, x_test, y_test = mnist
    from shendu.keras.layers import Dense
    from shendu.keras.models import Sequential
    from shendu.keras.optimizers import Adam

    shendu.manual_seed(0)
    model = Sequential()
    model.add(Dense(64, activation='relu', input_shape=(784,)))
    model.add(Dense(64, activation='relu'))
    model.add(Dense(10, activation='softmax'))
    model.compile(optimizer=Adam(lr=0.001),
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    score = model.evaluate(x_test, y_test, verbose=0)
    assert score[1] > 0.9, f"test accuracy {score[1]:.3f}"
    assert model.optimizer.param_groups[0]["lr"] == 0.001
    assert sum(len(g["params"]) for g in model.optimizer.param_groups) == 6


def test_seed_c_no_input_shape_built_on_first_call(mnist):
    x_train, y_train, x_test, y_test = mnist
    import shendu as tf

    tf.manual_seed(0)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dense(10, activation='softmax')
    ])
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    model.fit(x_train, y_train, epochs=5, verbose=0)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc > 0.9, f"test accuracy {acc:.3f}"
    assert model.count_params() == 784 * 128 + 128 + 128 * 10 + 10
    lines = []
    model.summary(print_fn=lines.append)  # built by fit: the summary works now
    assert "(None, 128)" in "\n".join(lines)


def test_to_categorical_with_categorical_crossentropy(mnist):
    x_train, y_train, x_test, y_test = mnist
    from shendu.keras.layers import Dense
    from shendu.keras.models import Sequential
    from shendu.keras.utils import np_utils

    y_train_1h = np_utils.to_categorical(y_train, 10)
    y_test_1h = np_utils.to_categorical(y_test, 10)
    assert y_train_1h.shape == (4000, 10) and y_train_1h.dtype == np.float32
    np.testing.assert_array_equal(y_train_1h.argmax(1), y_train)
    shendu.manual_seed(0)
    model = Sequential()
    model.add(Dense(128, activation='relu', input_shape=(784,)))
    model.add(Dense(10, activation='softmax'))
    model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
    model.fit(x_train, y_train_1h, batch_size=128, epochs=3, verbose=0,
              validation_data=(x_test, y_test_1h))
    score = model.evaluate(x_test, y_test_1h, verbose=0)
    assert score[1] > 0.85
    assert score[1] == pytest.approx((model.predict(x_test).argmax(1) == y_test).mean())


def test_to_categorical_details():
    import shendu as tf
    from shendu.keras.utils import to_categorical
    from shendu.keras.utils.np_utils import to_categorical as legacy

    assert legacy is to_categorical is tf.keras.utils.np_utils.to_categorical
    np.testing.assert_array_equal(to_categorical([2, 0]), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical(np.array([[1], [3]]), 4).shape == (2, 4)
    assert to_categorical([1, 0], 3, dtype="int64").dtype == np.int64
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([5], 3)
    with pytest.raises(ValueError, match=">= 0"):
        to_categorical([-1])
    with pytest.raises(ValueError, match="integer"):
        to_categorical([0.5])


def test_keras_names_resolve():
    import shendu as tf

    k = tf.keras
    assert k.Sequential is k.models.Sequential is shendu.models.Sequential
    assert k.load_model is k.models.load_model
    opt = k.optimizers.Adam(learning_rate=0.01)
    assert opt.param_groups == [] and opt.defaults["lr"] == 0.01
    assert k.optimizers.SGD().defaults["lr"] == 0.01  # Keras defaults, not PyTorch's
    assert k.optimizers.RMSprop(lr=0.002).defaults["lr"] == 0.002
    loss = k.losses.SparseCategoricalCrossentropy()
    assert loss.name == "sparse_categorical_crossentropy"
    m = k.Sequential([k.layers.Dense(3, activation="softmax", input_shape=(2,))])
    m.compile(optimizer="sgd", loss=loss, metrics=["acc"])
    assert type(m.compiled_metrics[0]).__name__ == "SparseCategoricalAccuracy"
    assert m.compiled_metrics[0].name == "acc"
    assert k.backend.floatx() == "float32"
    assert callable(k.callbacks.EarlyStopping) and callable(k.datasets.mnist.load_data)


def test_keras_loss_object_from_logits():
    import shendu as tf

    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    tf.manual_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(4,))])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    logits = model.predict(x).astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    ref = -np.log(p[np.arange(32), y]).mean()
    assert model.evaluate(x, y, batch_size=32, verbose=0)[0] == pytest.approx(ref, rel=1e-5)
