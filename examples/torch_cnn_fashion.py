"""A PyTorch-style CNN on Fashion-MNIST: nn.Module, DataLoader, loss.backward(), step().

Only the imports differ from the same program written for PyTorch/torchvision. Needs the
Fashion-MNIST files (Debian's dataset-fashion-mnist package, or see ``shendu datasets``).
Run: python examples/torch_cnn_fashion.py [epochs]
"""

import sys

import shendu as torch
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.utils.data import DataLoader
from shendu.vision import datasets, transforms

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.manual_seed(0)
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.286,), (0.353,))])
train = datasets.FashionMNIST("./data", train=True, transform=tf)
test = datasets.FashionMNIST("./data", train=False, transform=tf)
train_loader = DataLoader(train, batch_size=128, shuffle=True)
test_loader = DataLoader(test, batch_size=1000)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(epochs):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(dim=1) == y).sum().item()
    print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {correct / len(test):.4f}")
