"""Reference values, from PyTorch 1.13 in float64, for the formulas the net.json hints suggest
(src/io/spec-hints.ts): test/spec.test.ts checks that each suggested { "expr": … } computes the
function it is offered for. Run with /usr/bin/python3 scripts/hint_formulas.py."""
import json
import torch
import torch.nn.functional as F

z = torch.tensor([-7.5, -3.0, -1.2, -0.5, -1e-3, 0.0, 1e-3, 0.4, 1.0, 2.5, 4.0, 6.5, 9.0], dtype=torch.float64)
activations = {
    'swish': F.silu(z),
    'silu': F.silu(z),
    'gelu': F.gelu(z, approximate='tanh'),
    'mish': F.mish(z),
    'selu': F.selu(z),
    'hardtanh': F.hardtanh(z),
    'relu6': F.relu6(z),
    'hardsigmoid': F.hardsigmoid(z),
    'hardswish': F.hardswish(z),
    'softsign': F.softsign(z),
    'logsigmoid': F.logsigmoid(z),
    'tanhshrink': F.tanhshrink(z),
    'exponential': torch.exp(z),
    'square': z ** 2,
}
a = torch.tensor([-2.0, -0.7, 0.0, 0.3, 0.9, 1.5, 3.0], dtype=torch.float64)
y = torch.tensor([1.0, -1.0, 0.5, 0.0, 1.0, -1.0, 0.25], dtype=torch.float64)
losses = {
    'mae': F.l1_loss(a, y, reduction='none'),
    'huber': F.huber_loss(a, y, reduction='none', delta=1.0),
    'hinge': torch.clamp(1 - y * a, min=0),
}
out = {
    'torch': torch.__version__,
    'z': z.tolist(),
    'activations': {k: v.tolist() for k, v in activations.items()},
    'a': a.tolist(), 'y': y.tolist(),
    'losses': {k: v.tolist() for k, v in losses.items()},
}
with open('fixtures/hints/formulas.json', 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
