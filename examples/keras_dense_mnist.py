"""The seeds' Keras example (TensorFlow spelling) on the MNIST sample shipped with shendu.

Only the import line differs from the seed: ``import tensorflow as tf`` -> ``import shendu as tf``.
Run: python examples/keras_dense_mnist.py
"""

import shendu as tf

(x_train, y_train), (x_test, y_test) = tf.data.load_sample("mnist")
x_train = x_train.reshape(-1, 784) / 255.0
x_test = x_test.reshape(-1, 784) / 255.0
tf.keras.utils.set_random_seed(0)

# 定义神经网络模型 (the seed's code from here on)
model = tf.keras.models.Sequential([
    tf.keras.layers.Dense(64, activation='relu', input_shape=(784,)),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.Dense(10, activation='softmax')
])

# 编译模型
model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=5)

# 评估模型
loss, accuracy = model.evaluate(x_test, y_test)
print(f"test accuracy: {accuracy:.4f}")
