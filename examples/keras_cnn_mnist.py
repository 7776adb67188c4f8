"""The seeds' Keras CNN (MNIST, one-hot labels, categorical cross-entropy).

Only the imports differ from the seed (``keras.`` -> ``shendu.keras.``). It loads MNIST with
``mnist.load_data()`` when the files are installed (see ``shendu datasets``); otherwise it falls
back to the MNIST sample shipped with shendu. Run: python examples/keras_cnn_mnist.py [epochs]
"""

import sys

from shendu.data import DatasetNotFoundError, load_sample
from shendu.keras.datasets import mnist
from shendu.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from shendu.keras.models import Sequential
from shendu.keras.utils import np_utils

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
try:
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
except DatasetNotFoundError:
    print("full MNIST not installed here: using the 4,000-image sample shipped with shendu")
    (x_train, y_train), (x_test, y_test) = load_sample("mnist")

# the seed's code from here on
x_train = x_train.reshape(x_train.shape[0], 28, 28, 1)
x_test = x_test.reshape(x_test.shape[0], 28, 28, 1)
x_train = x_train.astype('float32') / 255
x_test = x_test.astype('float32') / 255
y_train = np_utils.to_categorical(y_train, 10)
y_test = np_utils.to_categorical(y_test, 10)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dense(10, activation='softmax'))

model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
