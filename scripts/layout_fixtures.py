"""fixtures/layouts: a net whose W's are all square (3-3-3, tanh then linear, mean squared error)
and PyTorch 1.13 float64 gradients of code written in the (inputs, units) layout, h = X @ W + b,
saved both ways: params.json/grads.json as (units, inputs) (W.T, what backprop-check reads) and
params_rows.json/grads_rows.json as that code stores them. Shapes cannot tell the two apart;
test/layouts.test.ts checks what a check of each pair reports. Run with /usr/bin/python3."""
import json
import numpy as np
import torch

rng = np.random.default_rng(11)
X = rng.normal(size=(8, 3))
Y = rng.normal(size=(8, 3))
out = 'fixtures/layouts/'
with open(out + 'data.csv', 'w') as f:
    f.write('x1,x2,x3,y1,y2,y3\n')
    for row in np.hstack([X, Y]):
        f.write(','.join(repr(float(v)) for v in row) + '\n')
with open(out + 'net.json', 'w') as f:
    json.dump({'input': 3, 'layers': [{'units': 3, 'activation': 'tanh'}, {'units': 3, 'activation': 'linear'}],
               'loss': 'mean_squared_error'}, f, indent=1)
    f.write('\n')

t = lambda a: torch.tensor(a, dtype=torch.float64, requires_grad=True)
W1, b1 = t(rng.normal(size=(3, 3)) * 0.6), t(rng.normal(size=3) * 0.1)
W2, b2 = t(rng.normal(size=(3, 3)) * 0.6), t(rng.normal(size=3) * 0.1)
A1 = torch.tanh(torch.tensor(X) @ W1 + b1)
out_ = A1 @ W2 + b2
# backprop-check's mean_squared_error: ½‖a − y‖² per sample, averaged over the samples.
J = (0.5 * ((out_ - torch.tensor(Y)) ** 2).sum(dim=1)).mean()
J.backward()
v = lambda x: x.detach().numpy()


def dump(name, d):
    with open(out + name, 'w') as f:
        json.dump({k: np.asarray(a).tolist() for k, a in d.items()}, f)
        f.write('\n')


dump('params_rows.json', {'W1': v(W1), 'b1': v(b1), 'W2': v(W2), 'b2': v(b2)})
dump('grads_rows.json', {'dW1': W1.grad.numpy(), 'db1': b1.grad.numpy(), 'dW2': W2.grad.numpy(), 'db2': b2.grad.numpy()})
dump('params.json', {'W1': v(W1).T, 'b1': v(b1), 'W2': v(W2).T, 'b2': v(b2)})
dump('grads.json', {'dW1': W1.grad.numpy().T, 'db1': b1.grad.numpy(), 'dW2': W2.grad.numpy().T, 'db2': b2.grad.numpy()})
