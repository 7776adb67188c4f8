"""The seeds' standalone-Keras example: ``Sequential()`` + ``add`` + ``Adam(lr=0.001)``.

Only the imports differ from the seed (``keras.`` -> ``shendu.keras.``).
Run: python examples/keras_sequential_add.py
"""

from shendu.data import load_sample
from shendu.keras.layers import Dense
from shendu.keras.models import Sequential
from shendu.keras.optimizers import Adam
from shendu.keras.utils import set_random_seed

(x_train, y_train), (x_test, y_test) = load_sample("mnist")
x_train = x_train.reshape(-1, 784) / 255.0
x_test = x_test.reshape(-1, 784) / 255.0
set_random_seed(0)

# 定义神经网络模型
model = Sequential()
model.add(Dense(64, activation='relu', input_shape=(784,)))
model.add(Dense(64, activation='relu'))
model.add(Dense(10, activation='softmax'))

# 编译模型
model.compile(optimizer=Adam(lr=0.001),
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=5)
model.summary()
print("test [loss, accuracy]:", model.evaluate(x_test, y_test, verbose=0))
