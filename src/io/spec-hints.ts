// What to write instead, for the names net.json does not know: an activation or a loss that is not
// built in (the { "expr": … } form, with a worked formula for the common ones, or the built-in name
// that was meant), and a layer "type" that is not one of net.json's (the one that was meant, as
// Keras and PyTorch spell it). spec.ts adds these sentences to its schema errors.
import { ACTIVATION_NAMES } from '../core/records/activations.js';
import { LOSS_NAMES } from '../core/records/losses.js';
import { show } from './errors.js';

/** "Leaky-ReLU", "leaky_relu", "LeakyReLU" → "leakyrelu": how people spell one name. */
const normal = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Activations people ask for, as formulas in z (every one is compiled in test/spec.test.ts). */
const ACTIVATION_FORMULAS: Record<string, { expr: string; what: string }> = {
  swish: { expr: 'z / (1 + exp(-z))', what: 'swish with β = 1, also called SiLU' },
  silu: { expr: 'z / (1 + exp(-z))', what: 'SiLU, also called swish' },
  gelu: { expr: '0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z^3)))', what: 'GELU in its tanh approximation, PyTorch\'s approximate="tanh": the exact one needs erf, which formulas do not have' },
  mish: { expr: 'z * tanh(softplus(z))', what: 'mish' },
  selu: { expr: '1.0507009873554805 * (max(z, 0) + 1.6732632423543772 * (exp(min(z, 0)) - 1))', what: 'SELU' },
  hardtanh: { expr: 'max(-1, min(1, z))', what: 'hard tanh' },
  relu6: { expr: 'min(max(z, 0), 6)', what: 'ReLU6' },
  hardsigmoid: { expr: 'max(0, min(1, z / 6 + 0.5))', what: 'hard sigmoid, as PyTorch defines it' },
  hardswish: { expr: 'z * max(0, min(1, z / 6 + 0.5))', what: 'hard swish' },
  softsign: { expr: 'z / (1 + abs(z))', what: 'softsign' },
  logsigmoid: { expr: '-softplus(-z)', what: 'log-sigmoid' },
  tanhshrink: { expr: 'z - tanh(z)', what: 'tanhshrink' },
  exponential: { expr: 'exp(z)', what: 'the exponential' },
  square: { expr: 'z^2', what: 'the square' },
};

/** Other spellings of built-in activations. */
const ACTIVATION_ALIASES: Record<string, string> = {
  identity: 'linear', none: 'linear', id: 'linear', logistic: 'sigmoid', sigm: 'sigmoid', lrelu: 'leaky_relu', leaky: 'leaky_relu',
  leakyrelu: 'leaky_relu', rectifier: 'relu', softmax2d: 'softmax',
};

/** The sentence after "found …" for an activation name that is not built in. */
export function activationHint(name: string): string {
  const n = normal(name);
  const formula = ACTIVATION_FORMULAS[n];
  if (formula) {
    return `"${name}" is not built in: write it as a formula in z, { "expr": "${formula.expr}" } (${formula.what}).`;
  }
  if (n === 'prelu') return 'PReLU\'s α is learned, and only W and b are parameters here; for a fixed α write { "name": "leaky_relu", "alpha": 0.25 }.';
  if (n === 'logsoftmax') return 'Use "softmax" on the output layer with "loss": "categorical_cross_entropy": together they are log-softmax with the negative log-likelihood.';
  const meant = ACTIVATION_ALIASES[n] ?? closest(name, ACTIVATION_NAMES);
  if (meant !== undefined && meant !== name) return `Did you mean "${meant}"?`;
  return 'Any other element-wise activation can be written as a formula in z, for example swish: { "expr": "z / (1 + exp(-z))" } ' +
    '(mathjs syntax; the functions are exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid and softplus).';
}

/** Losses people ask for: the built-in name that is meant, or a formula in a and y (per output unit). */
const LOSS_HINTS: Record<string, string> = {
  mse: 'mse', meansquarederror: 'mse', squarederror: 'mse', mseloss: 'mse', l2: 'mse', l2loss: 'mse', sse: 'mse', quadratic: 'mse',
  crossentropy: 'ce', categoricalcrossentropy: 'ce', sparsecategoricalcrossentropy: 'ce', crossentropyloss: 'ce', ce: 'ce', cce: 'ce',
  nll: 'ce', nllloss: 'ce', softmaxcrossentropy: 'ce', logsoftmax: 'ce', categorical: 'ce', multiclass: 'ce',
  bce: 'bce', binarycrossentropy: 'bce', bceloss: 'bce', logloss: 'bce', log: 'bce', logistic: 'bce', binary: 'bce',
  bcewithlogits: 'logits', bcewithlogitsloss: 'logits', binarycrossentropywithlogits: 'logits', sigmoidcrossentropy: 'logits',
  mae: 'mae', l1: 'mae', l1loss: 'mae', meanabsoluteerror: 'mae', absoluteerror: 'mae',
  huber: 'huber', huberloss: 'huber', smoothl1: 'huber', smoothl1loss: 'huber',
  hinge: 'hinge', hingeloss: 'hinge',
};

const LOSS_TEXT: Record<string, string> = {
  mse: 'Did you mean "mean_squared_error"? It is ½‖a − y‖² per sample; PyTorch\'s MSELoss() (no ½, and a mean over the outputs too) is { "expr": "(a - y)^2 / K" } with K the number of outputs written as a number.',
  ce: 'Did you mean "categorical_cross_entropy"? It goes with a "softmax" output layer (PyTorch\'s CrossEntropyLoss is that, with the softmax inside the loss); data.csv holds a class index 0…K−1 or K one-hot columns.',
  bce: 'Did you mean "binary_cross_entropy"? It goes with a "sigmoid" output layer and a 0/1 label column.',
  logits: 'Use "binary_cross_entropy" with "activation": "sigmoid" on the output layer: together they are BCE with logits.',
  mae: 'It is not built in: write it as a formula in a and y, { "expr": "abs(a - y)" } (the absolute error, summed over the output units).',
  huber: 'It is not built in: write it as a formula in a and y, { "expr": "0.5 * min(abs(a - y), 1)^2 + abs(a - y) - min(abs(a - y), 1)" } (Huber with δ = 1, summed over the output units).',
  hinge: 'It is not built in: write it as a formula in a and y, { "expr": "max(0, 1 - y * a)" } (the hinge loss, for labels −1 and 1, with a linear output layer).',
};

/** The sentence after "found …" for a loss name that is not built in. */
export function lossHint(name: string): string {
  const known = LOSS_HINTS[normal(name)];
  if (known) return LOSS_TEXT[known];
  const meant = closest(name, LOSS_NAMES);
  if (meant !== undefined) return `Did you mean "${meant}"?`;
  return 'Any other loss can be written as a formula in a and y, per output unit (summed over the units), for example { "expr": "abs(a - y)" }.';
}

/** Layer types by how Keras, PyTorch and course code spell them. */
const TYPE_ALIASES: Record<string, string> = {
  dense: 'dense', linear: 'dense', fc: 'dense', fullyconnected: 'dense', affine: 'dense', perceptron: 'dense',
  conv2d: 'conv2d', conv: 'conv2d', convolution: 'conv2d', convolution2d: 'conv2d', conv2: 'conv2d',
  maxpool2d: 'maxpool2d', maxpool: 'maxpool2d', maxpooling2d: 'maxpool2d', maxpooling: 'maxpool2d',
  avgpool2d: 'avgpool2d', avgpool: 'avgpool2d', averagepooling2d: 'avgpool2d', averagepool: 'avgpool2d', meanpool: 'avgpool2d',
  flatten: 'flatten',
  batchnorm: 'batchnorm', batchnorm1d: 'batchnorm', batchnorm2d: 'batchnorm', batchnormalization: 'batchnorm', bn: 'batchnorm',
  layernorm: 'layernorm', layernormalization: 'layernorm', ln: 'layernorm',
  dropout: 'dropout',
  activation: 'activation', relu: 'activation', sigmoid: 'activation', tanh: 'activation', softmax: 'activation',
};

/** The sentence after "found …" for a layer "type" that is not one of net.json's. */
export function layerTypeHint(type: unknown): string {
  const meant = typeof type === 'string' ? TYPE_ALIASES[normal(type)] : undefined;
  if (meant === 'dense') return 'Write "dense", or leave "type" out: a layer is dense unless it says otherwise.';
  if (meant === 'activation') return `Write { "type": "activation", "activation": "${normal(String(type)) === 'activation' ? 'relu' : normal(String(type))}" }, or put the activation in the layer before it.`;
  if (meant !== undefined) return `Did you mean "${meant}"?`;
  return `A network with ${show(type)} layers cannot be checked: net.json describes dense, convolution, pooling, normalisation, dropout and activation layers.`;
}

/** The one name nearest to `name` (letter case and separators aside), if it is within two edits. */
function closest(name: string, names: readonly string[]): string | undefined {
  const n = normal(name);
  const distances = names.map((candidate) => editDistance(n, normal(candidate)));
  const best = Math.min(...distances);
  return best <= 2 && distances.filter((d) => d === best).length === 1 ? names[distances.indexOf(best)] : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions), for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}
