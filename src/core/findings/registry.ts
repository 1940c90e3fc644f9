// Every finding code in one place: what kind of finding it is, the severities its findings may
// carry, and the longer explanation with the maths that `backprop-check --explain <code>` prints.
// The diagnosis, the numerical-edge checks, the tensor readers and the CLI all read this list, so
// adding a code touches this file and the code that emits the finding, nothing else.
import type { Finding, Severity } from '../report.js';

/**
 * What a finding is about: a mistake in the gradient code (root), the echo of one further
 * downstream (propagated), the trainability of the network at these weights (health), a limit of
 * float64 or of the check itself (numerics), or how the input files were written (input).
 */
export type Category = 'root' | 'propagated' | 'health' | 'numerics' | 'input';

interface CodeRecord {
  category: Category;
  /** The severities a finding of this code may carry, the usual one first. */
  severities: readonly Severity[];
  title: string;
  text: string;
}

const CODES = {
  'wrong-activation-derivative': {
    severities: ['error', 'warning'],
    category: 'root',
    title: "a layer multiplies by another activation's derivative",
    text: `Backprop turns dA into dZ with the layer's own derivative, element by element:
    dZ_l = dA_l ⊙ g_l'(Z_l).
Your code uses the derivative of a different activation (for example tanh's 1 - a^2 on a sigmoid
layer, whose derivative is a·(1 − a)). Every gradient of this layer is then off by the ratio of the
two derivatives, and every earlier layer inherits the error through dA_{l−1} = W_lᵀ·dZ_l.
The derivatives, in z and in the activation's output a:
    sigmoid   σ(z)(1 − σ(z))  = a(1 − a)
    tanh      1 − tanh²(z)    = 1 − a²
    relu      1 if z > 0 else 0
    leaky     1 if z > 0 else α
    softplus  σ(z)            = 1 − e^(−a)
    elu       1 if z > 0 else α·e^z = a + α
    softmax   not element-wise: dZ = a ⊙ (dA − Σₖ aₖ·dAₖ); with cross-entropy, dZ = a − y.
Fix: use the derivative of the activation the layer actually applies.`,
  },
  'derivative-of-wrong-variable': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'the right derivative, evaluated at the wrong variable',
    text: `A derivative written in the activation's output must be given the output. tanh' = 1 − a²
is right with a = tanh(z); 1 − z² is the same formula fed the pre-activation z instead. For small
|z| the two agree (tanh(z) ≈ z), which is why this mistake hides while the weights are small and
appears as they grow. The same holds for the sigmoid (a(1 − a) versus z(1 − z)) and for a
derivative written in z that is fed a.
Fix: evaluate the formula at the variable it is written in; in code, cache A (not only Z) for the
backward pass.`,
  },
  'wrong-output-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'the output gradient is not ∂L/∂a (or ∂L/∂z)',
    text: `Backprop starts at the output with dA_L = ∂L/∂a for each output unit and sample, then
dZ_L = dA_L ⊙ g_L'(Z_L). For the built-in losses:
    binary cross-entropy   L = −[y log a + (1 − y) log(1 − a)]   ∂L/∂a = −(y/a − (1 − y)/(1 − a))
    squared error          L = ½(a − y)²                          ∂L/∂a = a − y
    categorical CE         L = −Σₖ yₖ log aₖ                      ∂L/∂aₖ = −yₖ/aₖ
With a sigmoid output and binary cross-entropy, or a softmax output and categorical
cross-entropy, the product simplifies to dZ_L = a − y. The usual mistakes: a flipped sign
(gradient ascent), a flipped or missing term, and a − y used as dA (so g' is applied twice) or
∂L/∂a used as dZ (so g' is left out). An error here reaches every layer.
Fix: use the formula given in the finding.`,
  },
  'wrong-reduction': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'the 1/m of a mean cost is missing or applied twice',
    text: `With reduction "mean" the cost is J = (1/m)·Σᵢ L(aᵢ, yᵢ), so
    dW_l = (1/m)·dZ_l·A_{l−1}ᵀ,   db_l = (1/m)·Σᵢ dZ_l[:, i]
where dZ_l is the per-sample delta. Leaving the 1/m out makes those gradients m times too large;
dividing once in dA_L and again in dW makes them m times too small. With reduction "sum" there is
no 1/m at all.
Fix: divide by m exactly once, where dW and db are formed (or not at all with "sum").`,
  },
  'constant-factor': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'a gradient is a constant multiple of the right one',
    text: `The tensor equals k times the right gradient, with k found by least squares,
    k = ⟨g, ĝ⟩ / ⟨ĝ, ĝ⟩,
and a residual ‖g − k·ĝ‖ at round-off level. k = −1 is a sign error; k = 2 with squared error
is the derivative of (a − y)² without the ½; k = 0.5 a stray ½. When the factor sits on a layer's
dZ, every earlier layer inherits it.
Fix: find the stray factor in the line that computes that tensor (or that dZ).`,
  },
  'missing-l2-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'the L2 penalty is in the cost but not in dW',
    text: `The penalty c·Σ‖W_l‖² (c = λ/(2m) with "mean", λ/2 with "sum") adds 2c·W_l to each dW_l:
    dW_l = (1/m)·dZ_l·A_{l−1}ᵀ + (λ/m)·W_l.
Biases are not regularised. Without the term the gradient is that of the unregularised cost.
Fix: dW1 += (lambd / m) * W1 for every layer (lambd * W1 with "sum"); in net.json's backward
block, "l2": true.`,
  },
  'wrong-l2-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'the L2 term of dW has the wrong sign, factor or form',
    text: `The gradient of c·Σ‖W‖² with respect to W is exactly 2c·W: λ/m·W for λ/(2m)·Σ‖W‖².
Common slips: −λ/m·W (the sign), λ·W (the 1/m forgotten), λ/(2m)·W (the 2 from d(w²)/dw
forgotten), λ·ΣW in every element (a sum where the element is needed), λ·sign(W) (the L1
gradient). The finding gives the factor β your code uses, fitted by least squares.
Fix: dW1 = np.dot(dZ1, X.T) / m + (lambd / m) * W1 (samples in rows: X.T @ dZ1 / m + …).`,
  },
  'wrong-input-activation': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dW is built from the wrong activation',
    text: `Z_l = W_l·A_{l−1} + b_l, so ∂J/∂W_l = dZ_l·A_{l−1}ᵀ (times 1/m): the activation that
*enters* the layer. Using the layer's own output A_l, another layer's activation, or a
pre-activation Z gives a matrix of the same shape whenever the sizes happen to match, and the
wrong numbers.
Fix: dW2 = np.dot(dZ2, A1.T) / m: the input to the layer (X for layer 1); samples in rows,
A1.T @ dZ2 / m.`,
  },
  'transposed-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dW is transposed (a square layer)',
    text: `dW_l must have W_l's shape, units × inputs: dW_l = dZ_l·A_{l−1}ᵀ. A_{l−1}·dZ_lᵀ is its
transpose; for a square layer the shapes agree and only the numbers tell.
Fix: dW2 = np.dot(dZ2, A1.T) / m (units × inputs); samples in rows, A1.T @ dZ2 / m (inputs × units).`,
  },
  'wrong-backprop-weight': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dA is not W_lᵀ·dZ_l',
    text: `The gradient flowing into layer l−1 is dA_{l−1} = W_lᵀ·dZ_l. With a square W_l, W_l·dZ_l
has the right shape and the wrong numbers; skipping the weights altogether (dZ_{l−1} =
dZ_l ⊙ g'(Z_{l−1}), which NumPy broadcasts when layer l has one unit) is the other classic.
The layer that receives the wrong dA is the first whose gradients are wrong. Two more are
recovered from your gradients: W_lᵀ·dA_l (the delta passed down without layer l's derivative), and
(W_l − η·dW_l)ᵀ·dZ_l, the weights already updated by this step (η fitted by least squares).
Fix: dA1 = np.dot(W2.T, dZ2) with the forward pass's W2, and update W2 after the backward pass;
samples in rows, dA1 = dZ2 @ W2.T.`,
  },
  'wrong-bias-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'db is summed or averaged wrongly',
    text: `db_l = (1/m)·Σᵢ dZ_l[:, i]: a sum over the samples only (axis=1, keepdims=True), with the
same 1/m as dW_l. np.sum(dZ) without an axis sums over the units too and gives every element
the same value; a missing or doubled 1/m scales db alone.
Fix: db = np.sum(dZ, axis=1, keepdims=True) / m; samples in rows, db = np.sum(dZ, axis=0) / m.`,
  },
  'conv-stride-ignored': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'conv2d backward: window offsets without the stride',
    text: `Output position (i, j) of a conv2d with stride s reads the input window that starts at row s·i and
column s·j (after padding). Backward scatters each dZ[f, i, j]·W[f] into dA_prev at that same
window and sums x's windows for dW:
    dA_prev[:, s·i : s·i + kh, s·j : s·j + kw] += W[f] · dZ[f, i, j]
    dW[f] += A_prev[:, s·i : s·i + kh, s·j : s·j + kw] · dZ[f, i, j]
Code that uses i and j (the stride left out) puts every contribution in the wrong place as soon as
the stride is not 1.
Fix: vert_start = i * stride, horiz_start = j * stride.`,
  },
  'conv-padding-not-stripped': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'conv2d backward: the padding is not stripped from dA_prev',
    text: `Backward accumulates dA_prev on the padded input (H + 2p rows, W + 2p columns); the gradient of
the unpadded input is its interior, dA_prev = dA_prev_pad[:, p : p + H, p : p + W]. Taking the
top-left H × W block instead (the padding stripped on one side only, or not at all before
cropping) shifts the gradient by p rows and columns.
Fix: dA_prev = dA_prev_pad[:, pad:-pad, pad:-pad] (when pad > 0).`,
  },
  'conv-kernel-flipped': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'conv2d backward: the kernel flipped (convolution vs cross-correlation)',
    text: `conv2d, as PyTorch and cs231n compute it, is a cross-correlation: Z[f, i, j] = Σ W[f, c, u, v]·
A[c, s·i + u, s·j + v] + b[f]. Its input gradient scatters W itself, not W rotated by 180°:
the "full convolution with the flipped kernel" of textbooks is the same sum written the other way,
and flipping the kernel once more (or using a true convolution in the forward of the derivation)
gives the gradient of a different layer.
Fix: dA_prev[:, window] += W[f] · dZ[f, i, j], with W as in the forward pass.`,
  },
  'conv-dw-not-summed': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'conv2d backward: dW not summed over the batch',
    text: `dW[f] = s·Σ_samples Σ_(i, j) dZ[f, i, j]·A_prev[:, window(i, j)]: every sample's contribution adds
in (s = 1/m for a mean cost). Code that assigns dW inside the loop over samples (=, not +=), or
keeps only one sample's term, gives the last sample's gradient alone.
Fix: dW[:, :, :, :, f] += a_slice * dZ[i, h, w, f] inside the loop over every sample.`,
  },
  'conv-db-not-summed': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'conv2d backward: db not summed over the output positions',
    text: `A conv2d bias b[f] is added at every output position (i, j) of filter f, so its gradient sums
dZ over the samples and all positions: db[f] = s·Σ_samples Σ_(i, j) dZ[f, i, j] (s = 1/m for a
mean cost, 1 for a sum). Averaging over the positions as well (np.mean(dZ, axis=(0, 2, 3)), the
dense layer's mean over the samples carried over) divides it by H'·W' once too often.
Fix: db = np.sum(dZ, axis=(0, 2, 3)) (samples, H, W), times 1/m for a mean cost.`,
  },
  'maxpool-whole-window': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'max-pool backward: the gradient sent to the whole window',
    text: `y = max over a window passes its gradient to the one element that is the maximum (the first of
tied maxima): dA_prev[window] += mask · dy with mask = (x == max(x)), one element set. Sending dy
to every element of the window (no mask), or to every one of tied maxima, is the gradient of a
different layer.
Fix: mask = (a_slice == np.max(a_slice)); dA_prev[window] += mask * dA[i, j].`,
  },
  'maxpool-overwrite': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'max-pool backward: overlapping windows overwrite instead of accumulate',
    text: `When the stride is smaller than the window, windows overlap and one input element can be the
maximum of several; its gradient is the sum of their dy. Assigning (=) instead of adding (+=)
keeps only the last window's share.
Fix: dA_prev[window] += mask * dA[i, j].`,
  },
  'avgpool-not-averaged': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'average-pool backward: the 1/(h·w) is missing',
    text: `y = (1/(h·w))·Σ_window x, so each element of a window receives dy/(h·w). Spreading dy itself
over the window (the 1/(h·w) left out) makes dA_prev h·w times too large.
Fix: dA_prev[window] += np.ones((h, w)) * dA[i, j] / (h * w).`,
  },
  'avgpool-stride-ignored': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'average-pool backward: window offsets without the stride',
    text: `Output (i, j) of a pooling layer with stride s averages the window starting at (s·i, s·j); its
gradient goes back to that window. Offsets i, j (the stride left out) put it in the wrong place.
Fix: vert_start = i * stride, horiz_start = j * stride.`,
  },
  'flatten-order': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'flatten: (H, W, C) order where the forward used (C, H, W)',
    text: `flatten turns a (C, H, W) image into C·H·W features in C, H, W order (PyTorch's x.view(m, -1)
on (m, C, H, W)); its backward must reshape dA back in the same order. Reshaping with channels
last (NumPy code written for (m, H, W, C) arrays, or a transpose missing) scrambles the gradient
between channels and positions.
Fix: dA_prev = dA.reshape(A_prev.shape), with the same axis order as the forward reshape.`,
  },
  'batchnorm-simplified': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'batch norm backward: dx = γ·dy/σ without the mean and variance terms',
    text: `In training mode the batch's mean μ and variance σ² depend on every x, so with x̂ = (x − μ)/σ,
σ = √(var + ε), N the values per feature (samples, or samples·H·W per channel):
    dx = (γ/σ)·(dy − mean(dy) − x̂·mean(dy·x̂))
The "simplified" dx = γ·dy/σ treats μ and σ as constants: the gradient of inference mode, wrong
while the batch statistics are computed from the batch.
Fix: dx = gamma / sigma * (dy - dy.mean(axis) - xhat * (dy * xhat).mean(axis)).`,
  },
  'batchnorm-gamma-missing': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'batch norm backward: γ missing from dx',
    text: `y = γ·x̂ + β, so dx̂ = γ·dy and dx = (γ/σ)·(dy − mean(dy) − x̂·mean(dy·x̂)). Code that starts
from dx̂ = dy leaves γ out of every layer below.
Fix: dxhat = dy * gamma.`,
  },
  'batchnorm-unbiased-variance': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'batch norm backward: the unbiased variance (N − 1) where the forward used the biased one',
    text: `Training-mode batch norm normalises with the biased variance, (1/N)·Σ(x − μ)² (PyTorch, and
every derivation of its backward). A backward written with 1/(N − 1) (np.var(x, ddof=1), or
torch.var's default) is the gradient of a different forward pass.
Fix: var = np.mean((x - mu) ** 2, axis), the same variance as the forward.`,
  },
  'batchnorm-eps-missing': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'batch norm backward: ε missing from σ',
    text: `The forward divides by σ = √(var + ε); the backward must use the same σ. 1/√var (ε left out)
differs little while var ≫ ε and blows up for a feature of small variance.
Fix: sigma = np.sqrt(var + eps) in the backward too (cache it from the forward).`,
  },
  'batchnorm-spatial-axes': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'batch norm backward: the statistics over the wrong axes',
    text: `After a conv layer, batch norm (BatchNorm2d) keeps one mean and variance per channel, over the
samples and every position: N = m·H·W. A backward that takes its means per (channel, position)
over the samples only, as BatchNorm1d on flattened features does, is the gradient of another layer.
Fix: take every mean of the backward over axes (0, 2, 3) (samples, H, W), keepdims=True.`,
  },
  'layernorm-wrong-axis': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'layer norm backward: the means over the batch instead of the features',
    text: `Layer norm normalises each sample over its own features: μ and σ per sample, so its backward's
means run over the features: dx = (1/σ)·(dx̂ − mean_f(dx̂) − x̂·mean_f(dx̂·x̂)), dx̂ = γ·dy.
Taking them over the samples (batch norm's axis) is the gradient of another layer.
Fix: mean over axis=-1 (the features) in every term of the backward.`,
  },
  'dropout-mask-missing': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dropout backward: the mask not applied',
    text: `Inverted dropout is y = x·mask/keep, so dx = dy·mask/keep: the dropped units get no gradient.
Passing dy through unmasked (dx = dy, or dy/keep) sends gradient to units the forward pass zeroed.
Fix: dA = dA * mask / keep_prob, with the mask of the forward pass.`,
  },
  'dropout-keep-missing': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dropout backward: not divided by keep',
    text: `Inverted dropout scales the kept units by 1/keep in the forward pass; the backward must too:
dx = dy·mask/keep. Masking without the 1/keep makes the gradients below keep times too small.
Fix: dA = dA * mask / keep_prob.`,
  },
  'dropout-new-mask': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dropout backward: a new mask drawn in backward',
    text: `The backward of dropout must use the mask its forward pass drew. Drawing a fresh one (calling
np.random.rand again in the backward) masks other units than the forward zeroed: the gradient of
a different network.
Fix: cache the mask in the forward pass and use it in the backward.`,
  },
  'softmax-diagonal': {
    severities: ['error', 'warning'],
    category: 'root',
    title: "softmax backward: only the Jacobian's diagonal s(1 − s)",
    text: `Softmax couples every output of a sample: ∂a_k/∂z_j = a_k(δ_kj − a_j). Its backward is the whole
Jacobian, dZ = a ⊙ (dA − Σₖ aₖ·dAₖ) per sample. Multiplying dA by a(1 − a) element by element
keeps the diagonal and drops the −a_k·a_j terms. With categorical cross-entropy the product
simplifies to dZ = a − y; with any other loss (squared error, binary cross-entropy, a custom one)
the full Jacobian is needed.
Fix: dZ = A * (dA - np.sum(A * dA, axis=0, keepdims=True)); samples in rows, axis=1.`,
  },
  // ---- the error itself, decomposed on interpretable directions (diagnose/decompose.ts) ----
  'l1-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dW carries an L1 term, c·sign(W), that the cost does not have',
    text: `The gradient of an L1 penalty c·Σ|W| is c·sign(W); of an L2 penalty (λ/2m)·Σ W², (λ/m)·W.
The error of your dW, G − Ĝ, is c·sign(W) to round-off (c fitted by least squares): your code
adds the L1 gradient where the cost has no L1 term (or has an L2 one).
Fix: make the cost and dW agree: remove c * np.sign(W) from dW, or add c * np.sum(np.abs(W)) to the
cost; with an L2 cost, dW = np.dot(dZ, A_prev.T) / m + lambd / m * W.`,
  },
  'bias-penalty': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'db carries a penalty on the biases (c·b) that the cost does not have',
    text: `Weight decay regularises the weights only: the cost's penalty (λ/2m)·Σ‖W‖² has no b in it, so
db = (1/m)·Σᵢ dZ[:, i] has no penalty term. The error of your db, G − Ĝ, is c·b to round-off:
your code applies the L2 term to the biases too (a loop over all parameters, for example).
Fix: db = np.sum(dZ, axis=1, keepdims=True) / m, without the c * b term (or add the biases'
penalty to the cost, if you mean to regularise them).`,
  },
  'constant-offset': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'a gradient is off by the same constant in every element',
    text: `The error of the tensor, G − Ĝ, is one number c in every element (c fitted by least squares,
residual at round-off): a scalar added to the whole array, e.g. a smoothing term, a "+ eps", or a
scalar in a formula that NumPy broadcast over the array.
Fix: find the number added to that gradient and remove it, e.g.
db = np.sum(dZ, axis=1, keepdims=True) / m.`,
  },
  'broadcast-gradient': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'a gradient has broadcast structure the right one lacks',
    text: `Every row of the gradient is the same, every row is constant (G = u·1ᵀ), or every element is
one number, while the right gradient has no such structure: a smaller array, (1, m), (units, 1) or
(1, 1), was broadcast by NumPy over the whole tensor (an output error (1, m) standing for every
hidden unit, one scalar for all outputs, np.sum without an axis).
Fix: check the shapes of the terms: assert dW.shape == W.shape and that dZ is (units, m);
db = np.sum(dZ, axis=1, keepdims=True) / m.`,
  },
  'gradient-of-other-tensor': {
    severities: ['error', 'warning'],
    category: 'root',
    title: "a gradient is a multiple of another tensor's gradient",
    text: `The tensor is k times the right gradient of another tensor of the same shape (the dW of
another layer), or db is k times the row sums of the same layer's dW (summed over the inputs
instead of over the samples): a variable reused, overwritten in a loop, or summed over the wrong
array.
Fix: compute each gradient from its own layer: dW = np.dot(dZ, A_prev.T) / m,
db = np.sum(dZ, axis=1, keepdims=True) / m.`,
  },
  'error-propagated': {
    severities: ['info'],
    category: 'propagated',
    title: 'a tensor fails only because an error downstream reaches it',
    text: `Backprop runs from the output to the input: dA_{l−1} = W_lᵀ·dZ_l. A mistake at layer l
makes every earlier layer's gradients wrong too, even where their own code is right. These
tensors would pass with the mistakes downstream fixed (checked by recomputing them with only
their own layer's code as it is).
Fix: fix the root causes listed above them first, then check again.`,
  },
  'gradient-mismatch': {
    severities: ['error'],
    category: 'root',
    title: 'a tensor fails and nothing in the catalogue reproduces it',
    text: `The gradients under test disagree with the finite differences, and no combination of the
catalogued mistakes (activation-derivative swaps, wrong variable, output gradient sign and terms,
1/m, constant factors, the L2 term, the input activation of dW, transposed dW, W instead of Wᵀ,
skipped Wᵀ, db, and each layer kind's own backward mistakes: conv2d, pooling, flatten, batch and
layer norm, dropout, the softmax diagonal) reproduces them to 1e-6. The finding gives what is known: the relative error,
the least-squares factor k between your gradient and the right one, and the layer where the
search stopped (the error enters there or below).
Fix: compare your code for that tensor line by line with
    dZ_l = dA_l ⊙ g'(Z_l),  dW_l = dZ_l·A_{l−1}ᵀ/m + λ/m·W_l,  db_l = Σᵢ dZ_l/m,  dA_{l−1} = W_lᵀ·dZ_l.`,
  },
  // ---- formulas recovered by sparse regression (diagnose/recover.ts) ----
  'wrong-local-derivative': {
    severities: ['error', 'warning'],
    category: 'root',
    title: 'dZ = dA ⊙ r with an r recovered from your gradients that is not g\'',
    text: `Backprop turns dA into dZ with the layer's own derivative: dZ_l = dA_l ⊙ g_l'(Z_l). Where no
catalogued derivative reproduces a layer, the factor r your code used is recovered from your dW and db:
both are linear in r (dW_l = (dA_l ⊙ r)·A_{l−1}ᵀ/m, db_l = Σᵢ (dA_l ⊙ r)/m), so r is fitted by least
squares as one or two terms of a small library (1, z, a, z², a², z·a, a(1 − a), 1 − a², σ(z), tanh(z),
the step z > 0, and each of them times g'), and reported only when backprop with that r reproduces your
gradients to 1e-6, the layers below included. The usual finds: the activation returned as its own
derivative (tanh_d(x) = tanh(x), so r = a), an extra factor (r = g'(z)·z), the derivative applied
twice (r = g'²). The dA that r multiplies may be recovered too (the next layer's dA passed down
instead of its dZ, or the weights after the update): those are wrong-backprop-weight.
Fix: dZ = dA * g'(Z) with the layer's own derivative, e.g. dZ1 = dA1 * (1 - A1**2) for tanh.`,
  },
  'vanishing-gradients': {
    severities: ['warning'],
    category: 'health',
    title: 'gradients shrink towards the input',
    text: `The error signal δ_l = dZ_l shrinks by roughly ‖W_l‖·g'(Z_l) per layer on its way back.
With tiny weights (0.01·N(0, 1)) or saturated sigmoids it is orders of magnitude smaller at layer 1
than at the output, and the early layers barely learn. The finding gives ‖dW_l‖ per layer and the
ratio of the RMS of δ at the first and the last layer (below 1e-3 is flagged).
Fix: Xavier initialisation for tanh/sigmoid (std 1/√fan_in), He for ReLU (std √(2/fan_in)).`,
  },
  'exploding-gradients': {
    severities: ['warning'],
    category: 'health',
    title: 'gradients grow towards the input',
    text: `When ‖W_l‖·g' exceeds 1 per layer, δ grows geometrically on its way back; the ratio of the
RMS of δ at the first and the last layer is above 1e3, and training steps overshoot.
Fix: smaller initial weights (Xavier/He), or gradient clipping.`,
  },
  'saturated-units': {
    severities: ['warning'],
    category: 'health',
    title: 'many tanh/sigmoid units sit in their flat tails',
    text: `tanh' = 1 − a² and sigmoid' = a(1 − a) are near 0 when |a| is near 1 (tanh) or a near 0 or 1
(sigmoid). A unit that is saturated on a sample passes almost no gradient back. Flagged when
at least 30% of a hidden layer's (unit, sample) pairs have |tanh| > 0.99 or sigmoid outside
[0.01, 0.99].
Fix: smaller initial weights, standardised inputs.`,
  },
  'dead-relu': {
    severities: ['warning', 'info'],
    category: 'health',
    title: 'ReLU units that are zero on every sample',
    text: `A ReLU unit whose pre-activation is ≤ 0 on every sample has zero gradient on every sample and
will never recover. Flagged per layer with the fraction of dead units (a warning at 50% or more).
Fix: He initialisation, a small positive bias, a lower learning rate, or leaky_relu.`,
  },
  'norm-variance-near-zero': {
    severities: ['warning'],
    category: 'health',
    title: 'a normalisation layer divides by a variance near 0',
    text: `Batch and layer norm divide by σ = √(var + ε). A feature (or channel, or sample for layer norm)
whose variance over what is normalised is far below ε is nearly constant: x̂ = (x − μ)/σ is then
(x − μ)/√ε, and dx carries the factor γ/√ε (about 316·γ for ε = 1e-5). Flagged when the smallest
variance is below ε. Batch norm on a batch of one sample has variance 0 everywhere.
Fix: a larger batch, a feature that varies (or drop it), or layer norm instead of batch norm.`,
  },
  'chance-level-loss': {
    severities: ['warning'],
    category: 'health',
    title: 'the cost is that of a constant, uninformed guess',
    text: `A sigmoid output of 0.5 on every sample gives binary cross-entropy ln 2 = 0.6931 per output;
a uniform softmax over K classes gives ln K. A cost at that level, with outputs that barely vary
between samples, means the network has not learned anything yet — typical of tiny initial
weights, where every layer's output is ≈ 0.
Fix: initialise with Xavier/He scale; check that the gradients pass, then train.`,
  },
  'init-scale': {
    severities: ['warning'],
    category: 'health',
    title: 'weights far from the scale their activation needs',
    text: `Xavier initialisation keeps the variance of activations and gradients steady through tanh,
sigmoid and linear layers with std(W_l) = 1/√fan_in; He initialisation does the same for ReLU
with std(W_l) = √(2/fan_in). A layer whose weight RMS is more than 10× away from that makes
signals vanish or explode layer by layer.
Fix: init.scheme "xavier" or "he" in net.json (or the equivalent in your code).`,
  },
  'non-finite': {
    severities: ['error', 'info'],
    category: 'health',
    title: 'NaN or Inf somewhere',
    text: `A NaN or ±Inf in the weights, activations, cost or gradients makes every comparison
meaningless. The usual sources: log(0) in cross-entropy with a saturated output, division by
a = 0 or a = 1 in ∂L/∂a, exp overflow, or an uninitialised array.
Fix: see which tensor the finding names; clip a to [ε, 1 − ε] in the loss or use the a − y delta.`,
  },
  kink: {
    severities: ['info'],
    category: 'numerics',
    title: 'elements at a kink (not differentiable there)',
    text: `ReLU, leaky ReLU and ELU have a kink at z = 0. A step ±ε that moves a pre-activation across 0
differences across the kink; backprop-check detects that exactly (the sign of z changes between
the + and − evaluations) and differences those samples again with a smaller step. A
pre-activation sitting exactly at 0 is a real point of non-differentiability: any value between
the two one-sided differences (a subgradient) is accepted there, and such elements are counted.
They never make a correct network fail.`,
  },
  'zero-gradients': {
    category: 'numerics',
    severities: ['error', 'warning'],
    title: 'tensors where nothing was compared',
    text: `A tensor whose every gradient element is exactly 0, in the gradients under test and in the finite
differences alike, passes without anything being compared: a wrong formula would give 0 there too.
It happens when the error signal cannot reach the tensor (saturated tanh/sigmoid units, whose
derivative rounds to 0; dead ReLU layers), when the inputs of a layer are all 0, or when the weights
are so small that their products underflow float64 (a few layers at scale 1e-120). When it is so for
every tensor, nothing at all was checked: an error, and exit status 1.
Fix: check at weights where the gradients are not 0: init.scheme "xavier" or "he" with scale 1, or
--params from a real training state.`,
  },
  'float32-precision': {
    category: 'numerics',
    severities: ['info'],
    title: 'float32 gradients or weights',
    text: `Gradients handed in with --grads or --exec whose every element is exactly a float32 (about 7
significant digits) were most likely computed in float32, whose arithmetic alone leaves relative
errors of 1e-7 to 1e-4. They are judged at a tolerance of 1e-4 instead of a tighter one, and the
finding names the tensors that would have failed at the requested tolerance. Bugs give relative
errors far above 1e-4. Float32 weights (--params) are read exactly and the check runs in float64 at
those values, so they only get a note.
Fix: compute and save the gradients in float64 (np.float64) to check them more tightly.`,
  },
  'float64-resolution': {
    category: 'numerics',
    severities: ['info'],
    title: 'agrees to float64 resolution at these weights',
    text: `A tensor whose disagreement with the finite differences would warn or fail is judged against what
float64 can resolve at these weights, for both sides. Backprop starts from rounded forward values:
at a confident sigmoid (z ≈ 30) a is 1 to an ulp, so 1 − a and a − y keep 3 or 4 digits of e^−z;
softmax at a margin of 28 the same; a bias gradient that is 0 by symmetry is a sum of terms that
cancel. backprop-check measures this: its correct backprop re-run 4 times (seeded) with every
forward quantity perturbed by a few units of rounding, plus γ·u·Σ|terms| for the sums; and the
truncation of the differences from a second step. Only the part of each element's error above
that floor counts. When nothing is left, the tensor passes and this note names it, the floor (as
a relative error) and its largest part. A real bug is far above the floor and still fails.
Gradients handed in as float32 are judged the same way against float32's resolution (2^-24).
Fix: nothing to fix. To resolve more, check at weights earlier in training (or a smaller scale),
or compute the loss from the logits, whose output delta a − y keeps its digits.`,
  },
  'unresolved-gradients': {
    category: 'numerics',
    severities: ['warning'],
    title: "a program's tensor whose disagreement lies within what its differences resolve",
    text: `With --model (a program's own cost), a difference is (J(θ + h₊eᵢ) − J(θ − h₋eᵢ)) / (h₊ + h₋) of two
costs the program rounded in its own precision, h± the steps it really took (fl(θᵢ ± δ) − θᵢ). Each
element's floor is what that leaves: its rounding, 32·u·(|J₊| + |J₋|) / (h₊ + h₋) with u = 2^-53 (2^-24
in float32), plus the step's truncation from a second step, (4/3)·|D(h) − D(h/2)|, plus any spread of
repeated costs. Only the part of a disagreement above its floor counts. When nothing is left and the
floor itself, ‖floor‖ / (‖g‖ + ‖ĝ‖), is at or above the tolerance, the differences cannot tell at this
tolerance whether the gradient is right: the tensor warns, "unresolved", with the floor stated. It is
not a pass, and never a failure (exit status 0). A real bug shows above the floor and still fails.
Fix: compute the cost in float64, reduce |J| (a mean instead of a sum, no large constant added), a
larger step with Richardson extrapolation, or --taylor, whose verdict needs no step.`,
  },
  'gradients-below-floor': {
    category: 'numerics',
    severities: ['warning'],
    title: "a program's gradients far below what its differences resolve",
    text: `The rounding floor of a difference of two costs is about 32·u·|J| / h. With J ≈ 0.69 in float32
(u = 2^-24) and h ≈ 1e-3, that is ≈ 1e-3: gradients of 1e-7 are ten thousand times below it, and
the differences show only rounding. Such a tensor is "unresolved" (see unresolved-gradients) with a
floor as large as the gradients themselves: the check can neither confirm nor refute them.
Fix: what would resolve them: the program in float64 (u = 2^-53), a larger step with Richardson
extrapolation (whose truncation cancels to O(h⁴)), or --taylor (the order of the first-order model's
error along a direction, which needs no step).`,
  },
  'float32-program': {
    category: 'numerics',
    severities: ['info'],
    title: 'the program computes in float32',
    text: `A program whose hello says "dtype": "float32", or whose every parameter and cost is exactly a
float32 value (PyTorch's default), keeps about 7 digits in each cost. Its steps are chosen and its
floors computed with float32's unit roundoff (2^-24): the best central difference of a float32 cost
resolves about u^(2/3) ≈ 2e-5, so the tolerance is at least 1e-3. Bugs give relative errors far above.
Fix: for a tighter check, run the program in float64 while it is checked (model.double() in PyTorch).`,
  },
  'nondeterministic-cost': {
    category: 'numerics',
    severities: ['error'],
    title: "the program's cost changes between identical calls",
    text: `Finite differences assume that the cost is a function of the parameters. backprop-check asks some
points twice: the cost at the start and at the end, and a few steps again in a later batch. When they
differ by more than 64 units of rounding of |J|, the differences measure that noise, not the
gradient: this is an error (exit status 1), and no tensor is failed on such numbers (each warns,
"nondeterministic"). A spread of a few units of rounding only widens the floors. The usual causes: a
dropout mask drawn on every call, data shuffled or sampled inside the cost, batch-norm updating its
running statistics inside the cost (training mode), an unseeded random number, GPU kernels that sum
in a different order on every call.
Fix: make the cost depend on the parameters alone while it is checked: draw the dropout mask once
(or turn dropout off), use one fixed batch, put batch-norm in one mode without updates, fix the seed,
use deterministic kernels (torch.use_deterministic_algorithms(True)) or the CPU.`,
  },
  'evaluation-limit': {
    category: 'numerics',
    severities: ['info'],
    title: 'a seeded sample, because a full check would exceed --max-evaluations',
    text: `A full check of a program with n parameters needs about 2n cost evaluations (each element stepped
up and down), plus a few hundred per tensor for its step. When that is more than --max-evaluations
allows (default 200,000), each tensor is checked on a seeded sample of its elements, in proportion
to its size, so that the whole fits; the finding says how many were checked.
Fix: to check everything, raise the limit (--max-evaluations N, N as the finding states), or choose
the sample yourself (--mode sample --samples N, or --mode directional).`,
  },
  // ---- loss conventions and data that differ from the code's (diagnose/conventions.ts) ----
  'loss-convention': {
    category: 'root',
    severities: ['error'],
    title: 'the gradients are right for another convention of the cost',
    text: `Your gradients are exactly correct backprop, only of another cost than net.json's: the same
network and data, with the cost written by another convention. The usual ones:
    ½ or not in squared error    ½‖a − y‖² gives a − y; ‖a − y‖² gives 2(a − y): every tensor × 2 or × ½
    a mean over the K outputs    PyTorch's MSELoss() is (1/K)·‖a − y‖² per sample: every tensor × 2/K
    mean or sum over samples     a sum where the cost averages multiplies every tensor by m; the reverse by 1/m
    the a − y delta              dZ = a − y is right for sigmoid with binary cross-entropy, softmax with
                                 categorical cross-entropy and a linear output with squared error, and for
                                 no other pair: with squared error and a sigmoid it is cross-entropy's gradient
backprop-check recomputes correct backprop under each convention and names the one that reproduces
every tensor to 1e-6 (a factor k on every tensor that no named convention gives is named as k).
Either is a fix: say the cost your code differentiates in net.json (the line in the message), or make
the code differentiate net.json's cost.
Fix: set the net.json line the message gives, or change the output delta or the 1/m in the code as it says.`,
  },
  'data-mismatch': {
    category: 'input',
    severities: ['error'],
    title: 'the gradients are right for slightly different data or weights',
    text: `Every tensor is off by a small amount with a factor k ≈ 1, and nothing in the catalogue reproduces
it, but correct backprop at data (or weights) that differ from the files backprop-check read by less than
the digits those files keep does, to 1e-6. The usual cause: your code computed its gradients from the
full-precision arrays, while data.csv (or the params file) was written with a few decimals, e.g.
np.savetxt's fmt="%.3f". backprop-check then checks your gradients at other inputs than your code's.
How it is told apart from a small real bug: the values read lie on a grid of 10^−d, and a perturbation
within ±½·10^−d of every value (the rounding the file allows) is found, by Gauss–Newton from the
linearised backprop, at which correct backprop reproduces every tensor under test to 1e-6. A real bug's
error needs no such grid and, in general, changes the data by more than the rounding.
Fix: give backprop-check the arrays your code used: np.savez("data.npz", X=X, Y=Y) and --data data.npz, or np.savetxt("data.csv", ..., fmt="%.17g"); save the weights the same way.`,
  },
  'extra-gradients': {
    category: 'input',
    severities: ['info'],
    title: "gradients that are not parameters'",
    text: `A deeplearning.ai grads dict holds dA0 … dA(L−1) (and in some versions dAL and dZ1 … dZL) beside
dW1, db1, …: the gradients of the cost with respect to each layer's activations and
pre-activations. They are accepted in a --grads file or an --exec answer and left unchecked: only
the parameters' gradients dW and db are compared with finite differences. Names that would be the
gradient of a tensor the net does not have (dW9, dA9 or dZ0 in a three-layer net) are still an error.
Fix: nothing to fix. To leave them out, keep only dW and db:
{k: v for k, v in grads.items() if k.startswith(("dW", "db"))}.`,
  },
  'other-layout': {
    category: 'input',
    severities: ['error'],
    title: 'square weights stored as (inputs, units)',
    text: `backprop-check reads W as (units, inputs), as deeplearning.ai code stores it; Keras kernels and
code that computes X @ W store the transpose, (inputs, units). When a W's shape is not square, a
file in that layout is refused before anything is checked. When every W is square, the shapes
cannot tell, and the files are read transposed: the check fails everywhere although the code may
be right. So a failing check of --params and --grads whose W's are all square runs once more with
every W and dW transposed, and when that passes, this finding says so. The diagnosis of the first
check is kept beside it (it describes the files as they were read).
Fix: store every W and dW transposed (np.savez(path, W1=W1.T, …), or
{k: (v.T if k.startswith(("W", "dW")) else v).tolist() for k, v in d.items()} for JSON).`,
  },
} as const satisfies Record<string, CodeRecord>;

export type FindingCode = keyof typeof CODES;

/** Every code, in the order `--explain` lists them. */
export const FINDING_CODES = Object.keys(CODES) as FindingCode[];

/**
 * A finding whose code is registered and whose severity is one the registry allows for that code:
 * what every emitter returns, so that the type checker holds each finding to its record.
 */
export type RegisteredFinding = {
  [C in FindingCode]: Omit<Finding, 'code' | 'severity'> & { code: C; severity: (typeof CODES)[C]['severities'][number] };
}[FindingCode];

export function isFindingCode(code: string): code is FindingCode {
  return Object.hasOwn(CODES, code);
}

export function categoryOf(code: string): Category | undefined {
  return isFindingCode(code) ? CODES[code].category : undefined;
}

/** The severities a finding of this code may carry (none for an unknown code). */
export function severitiesOf(code: string): readonly Severity[] {
  return isFindingCode(code) ? CODES[code].severities : [];
}

/** The text `--explain <code>` prints, or undefined for an unknown code. */
export function explain(code: string): string | undefined {
  if (!isFindingCode(code)) return undefined;
  const info: CodeRecord = CODES[code];
  return `${code}: ${info.title} (${info.category === 'root' ? 'a root cause' : info.category})\n\n${info.text}\n`;
}
