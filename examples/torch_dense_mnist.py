"""The seeds' PyTorch example on the MNIST sample; only the imports differ from the seed
(``import torch`` -> ``import shendu as torch``, ``torch.nn`` -> ``shendu.nn``).

The seed's loop takes one full-batch step per epoch; this script also runs the usual
mini-batch loop with a DataLoader, which is what reaches a useful accuracy.
Run: python examples/torch_dense_mnist.py
"""

import shendu as torch
import shendu.nn as nn
from shendu.data import load_sample
from shendu.utils.data import DataLoader, TensorDataset

(x_np, y_np), (xt_np, yt_np) = load_sample("mnist")
x_train = torch.tensor(x_np.reshape(-1, 784) / 255.0, dtype=torch.float32)
y_train = torch.tensor(y_np, dtype=torch.long)
x_test = torch.tensor(xt_np.reshape(-1, 784) / 255.0, dtype=torch.float32)
y_test = torch.tensor(yt_np, dtype=torch.long)
torch.manual_seed(0)


# 定义模型 (the seed's code)
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = self.fc2(x)
        return x


# 创建模型实例
model = Net()

# 定义损失函数和优化器
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())

# 训练模型: the seed's full-batch loop
for epoch in range(10):
    outputs = model(x_train)
    loss = criterion(outputs, y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f"after the seed's 10 full-batch steps: loss {loss.item():.4f}")

# the usual mini-batch loop
loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
for epoch in range(5):
    for xb, yb in loader:
        loss = criterion(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        acc = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
    print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {acc:.4f}")
