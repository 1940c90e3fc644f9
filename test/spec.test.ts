// net.json → Model (SPEC.md, "net.json"): defaults, the l2 and bias forms, activations and losses
// by name, the declared backward block and its plan, the softmax rules, and exact error messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { message, parse } from './helpers/spec.js';
import { l2Coefficient } from '../src/core/model.js';
import { UserError } from '../src/io/errors.js';
import { declaredPlan, loadSpec, parseSpec, withInputs } from '../src/io/spec.js';
import { activationHint, lossHint } from '../src/io/spec-hints.js';
import { readFileSync } from 'node:fs';

const base = () => ({
  input: 2,
  layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] as unknown[],
  loss: 'binary_cross_entropy' as unknown,
});

const FUNCTIONS = 'exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid, softplus';

describe('defaults', () => {
  it('reduction mean, no L2, biases, xavier init with scale 1 and seed 1, no declared backward', () => {
    const { model, statedInputs, declared } = parse(base());
    expect(model.reduction).toBe('mean');
    expect(model.l2).toEqual({ kind: 'none' });
    expect(model.init).toEqual({ scheme: 'xavier', scale: 1, seed: 1 });
    expect(model.layers.map((l) => l.bias)).toEqual([true, true]);
    expect(statedInputs).toBe(2);
    expect(declared).toBeNull();
    expect(model.loss.name).toBe('binary_cross_entropy');
  });

  it('each layer’s fan-in is the previous layer’s units', () => {
    const { model } = parse({ ...base(), layers: [{ units: 4, activation: 'relu' }, { units: 3, activation: 'relu' }, { units: 1, activation: 'sigmoid' }] });
    expect(model.layers.map((l) => [l.units, l.inputs])).toEqual([[4, 2], [3, 4], [1, 3]]);
    expect(model.inputs).toBe(2);
  });

  it('normal and uniform init default to scale 0.01 (README), he to 1', () => {
    expect(parse({ ...base(), init: { scheme: 'normal' } }).model.init).toEqual({ scheme: 'normal', scale: 0.01, seed: 1 });
    expect(parse({ ...base(), init: { scheme: 'uniform', seed: 7 } }).model.init).toEqual({ scheme: 'uniform', scale: 0.01, seed: 7 });
    expect(parse({ ...base(), init: { scheme: 'he', scale: 0.5 } }).model.init).toEqual({ scheme: 'he', scale: 0.5, seed: 1 });
  });

  it('without "input", the inputs come from the data through withInputs (which copies)', () => {
    const { input: _omitted, ...spec } = base();
    const { model, statedInputs } = parse(spec);
    expect(statedInputs).toBeUndefined();
    const fitted = withInputs(model, 5);
    expect(fitted.inputs).toBe(5);
    expect(fitted.layers.map((l) => l.inputs)).toEqual([5, 3]);
    expect(model.layers[0].inputs).toBe(0);
  });
});

describe('l2', () => {
  it('0 is none, a number is λ, { coefficient } is exact', () => {
    expect(parse({ ...base(), l2: 0 }).model.l2).toEqual({ kind: 'none' });
    expect(parse({ ...base(), l2: 0.7 }).model.l2).toEqual({ kind: 'lambda', lambda: 0.7 });
    expect(parse({ ...base(), l2: { coefficient: 0.03 } }).model.l2).toEqual({ kind: 'coefficient', coefficient: 0.03 });
  });

  it('the penalty coefficient c of c·Σ‖W‖²: λ/(2m) with mean, λ/2 with sum, c as given', () => {
    // SPEC.md, "l2".
    expect(l2Coefficient(parse({ ...base(), l2: 0.8 }).model, 4)).toBe(0.1);
    expect(l2Coefficient(parse({ ...base(), l2: 0.8, reduction: 'sum' }).model, 4)).toBe(0.4);
    expect(l2Coefficient(parse({ ...base(), l2: { coefficient: 0.03 }, reduction: 'sum' }).model, 4)).toBe(0.03);
    expect(l2Coefficient(parse({ ...base(), l2: { coefficient: 0.03 } }).model, 4)).toBe(0.03);
    expect(l2Coefficient(parse(base()).model, 4)).toBe(0);
  });
});

describe('bias', () => {
  it('"bias": false at the top level removes every bias', () => {
    expect(parse({ ...base(), bias: false }).model.layers.map((l) => l.bias)).toEqual([false, false]);
  });

  it('a layer’s own "bias" overrides the top level, either way', () => {
    const spec = { ...base(), layers: [{ units: 3, activation: 'tanh', bias: false }, { units: 1, activation: 'sigmoid' }] };
    expect(parse(spec).model.layers.map((l) => l.bias)).toEqual([false, true]);
    const top = { ...base(), bias: false, layers: [{ units: 3, activation: 'tanh', bias: true }, { units: 1, activation: 'sigmoid' }] };
    expect(parse(top).model.layers.map((l) => l.bias)).toEqual([true, false]);
  });
});

describe('activations and losses', () => {
  it('resolves names, alpha forms and formulas', () => {
    const layers = [
      { units: 2, activation: 'leaky_relu' },
      { units: 2, activation: { name: 'leaky_relu', alpha: 0.1 } },
      { units: 2, activation: { name: 'elu' } },
      { units: 2, activation: { name: 'elu', alpha: 0.5 } },
      { units: 2, activation: { expr: 'z / (1 + exp(-z))' } },
      { units: 1, activation: 'linear' },
    ];
    const { model } = parse({ ...base(), layers, loss: 'mean_squared_error' });
    expect(model.layers.map((l) => l.activation.name)).toEqual(['leaky_relu(0.01)', 'leaky_relu(0.1)', 'elu', 'elu(0.5)', 'expr(z / (1 + exp(-z)))', 'linear']);
    expect(model.layers[1].activation.f(-2)).toBe(-0.2);
    expect(model.layers[3].activation.f(-1)).toBeCloseTo(0.5 * Math.expm1(-1), 16);
  });

  it('a custom loss is compiled in a and y', () => {
    const { model } = parse({ ...base(), loss: { expr: '0.1 * (a - y)^2' } });
    expect(model.loss.name).toBe('expr(0.1 * (a - y)^2)');
    expect(model.loss.value(0.9, 0.4)).toBeCloseTo(0.025, 16);
  });

  it('softmax on the output with categorical cross-entropy is accepted', () => {
    const { model } = parse({ ...base(), layers: [{ units: 4, activation: 'relu' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' });
    expect(model.layers[1].activation.sumsToOne).toBe(true);
  });
});

describe('the declared backward block', () => {
  it('compiles its formulas; absent parts are correct', () => {
    const { model, declared } = parse({
      ...base(),
      backward: { outputGradient: '-(y / a + (1 - y) / (1 - a))', activationDerivatives: ['1 - z^2', null] },
    });
    expect(declared).not.toBeNull();
    expect(declared!.outputGradient!.source).toBe('-(y / a + (1 - y) / (1 - a))');
    expect(declared!.activationDerivatives.map((d) => d?.source ?? null)).toEqual(['1 - z^2', null]);
    const plan = declaredPlan(model, declared!);
    expect(plan.output.kind).toBe('gradient');
    // The declared (wrong-signed) formula: −(1/0.8 + 0/0.2) = −1.25 at a = 0.8, y = 1.
    expect(plan.output.fn(0, 0.8, 1)).toBe(-1.25);
    expect(plan.derivatives[0]!(0.5, 0, 0)).toBe(0.75);
    expect(plan.derivatives[1]).toBeNull();
    expect(plan.reduction).toBe('mean');
    expect(plan.l2).toBe(true);
  });

  it('outputDelta, reduction and l2 override the defaults', () => {
    const { model, declared } = parse({ ...base(), backward: { outputDelta: 'a - y', reduction: 'sum', l2: false } });
    const plan = declaredPlan(model, declared!);
    expect(plan.output.kind).toBe('delta');
    expect(plan.output.fn(0, 0.8, 1)).toBe(0.8 - 1);
    expect(plan.reduction).toBe('sum');
    expect(plan.l2).toBe(false);
    expect(plan.derivatives).toEqual([null, null]);
  });

  it('an empty block declares the correct backprop', () => {
    const { model, declared } = parse({ ...base(), backward: {} });
    const plan = declaredPlan(model, declared!);
    expect(plan.output.kind).toBe('gradient');
    expect(plan.output.fn(0, 0.8, 1)).toBeCloseTo(model.loss.gradient(0.8, 1), 16);
    expect(plan.derivatives).toEqual([null, null]);
  });
});

describe('error messages', () => {
  it.each([
    ['not an object', [1, 2], 'net.json, the top level: expected an object; found a list of 2.'],
    ['no layers', { loss: 'binary_cross_entropy' }, 'net.json, the top level: expected a property "layers"; found none.'],
    ['no loss', { layers: [{ units: 1, activation: 'sigmoid' }] }, 'net.json, the top level: expected a property "loss"; found none.'],
    ['no layers in the list', { ...base(), layers: [] }, 'net.json, layers: expected at least 1 item(s); found an empty list.'],
    ['0 units', { ...base(), layers: [{ units: 0, activation: 'tanh' }] }, 'net.json, layers[0].units: expected a number ≥ 1; found 0.'],
    ['fractional units', { ...base(), layers: [{ units: 2.5, activation: 'tanh' }] }, 'net.json, layers[0].units: expected a whole number; found 2.5.'],
    ['unknown activation', { ...base(), layers: [{ units: 3, activation: 'swish' }] },
      'net.json, layers[0].activation: expected one of "sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "elu", "softmax"; found "swish". "swish" is not built in: write it as a formula in z, { "expr": "z / (1 + exp(-z))" } (swish with β = 1, also called SiLU).'],
    ['activation of the wrong type', { ...base(), layers: [{ units: 3, activation: 5 }] },
      'net.json, layers[0].activation: expected an activation: one of sigmoid, tanh, relu, leaky_relu, linear, softplus, elu, softmax, { "name": "leaky_relu", "alpha": 0.1 } or { "expr": "…" }; found 5.'],
    ['alpha for relu', { ...base(), layers: [{ units: 3, activation: { name: 'relu', alpha: 0.1 } }] },
      'net.json, layers[0].activation.name: expected one of "leaky_relu", "elu"; found "relu".'],
    ['alpha not a number', { ...base(), layers: [{ units: 3, activation: { name: 'leaky_relu', alpha: 'x' } }] },
      'net.json, layers[0].activation.alpha: expected a number; found "x".'],
    ['an activation formula using a', { ...base(), layers: [{ units: 3, activation: { expr: 'a * 2' } }] },
      `net.json, layers[0].activation.expr: expected an element-wise formula in z (mathjs syntax); found an unknown name "a" (only the variables z, the constants e and pi, and the functions ${FUNCTIONS} may be used).`],
    ['an empty formula', { ...base(), layers: [{ units: 3, activation: { expr: '' } }] }, 'net.json, layers[0].activation.expr: expected a non-empty string; found "".'],
    ['an unknown loss', { ...base(), loss: 'hinge' },
      'net.json, loss: expected one of "binary_cross_entropy", "mean_squared_error", "categorical_cross_entropy"; found "hinge". It is not built in: write it as a formula in a and y, { "expr": "max(0, 1 - y * a)" } (the hinge loss, for labels −1 and 1, with a linear output layer).'],
    ['a loss formula using z', { ...base(), loss: { expr: 'z - y' } },
      `net.json, loss.expr: expected an element-wise formula in a and y (mathjs syntax); found an unknown name "z" (only the variables a, y, the constants e and pi, and the functions ${FUNCTIONS} may be used).`],
    ['a loss formula with a syntax error', { ...base(), loss: { expr: 'a -' } },
      'net.json, loss.expr: expected an element-wise formula in a and y (mathjs syntax); found a syntax error (Unexpected end of expression (char 4)).'],
    ['an unknown reduction', { ...base(), reduction: 'avg' }, 'net.json, reduction: expected one of "mean", "sum"; found "avg".'],
    ['a negative λ', { ...base(), l2: -1 }, 'net.json, l2: expected a number ≥ 0; found -1.'],
    ['λ as a string', { ...base(), l2: '0.1' }, 'net.json, l2: expected λ ≥ 0 or { "coefficient": c }; found "0.1".'],
    ['a negative coefficient', { ...base(), l2: { coefficient: -1 } }, 'net.json, l2.coefficient: expected a number ≥ 0; found -1.'],
    ['an unknown property', { ...base(), learningRate: 0.1 },
      'net.json, learningRate: expected only the properties description, input, layers, loss, reduction, layout, l2, bias, init, backward; found an unknown property "learningRate".'],
    ['an unknown layer property', { ...base(), layers: [{ units: 3, activation: 'tanh', dropout: 0.5 }] },
      'net.json, layers[0].dropout: expected only the properties units, activation, bias; found an unknown property "dropout".'],
    ['bias as a string', { ...base(), bias: 'no' }, 'net.json, bias: expected true or false; found "no".'],
    ['a layer bias as a number', { ...base(), layers: [{ units: 3, activation: 'tanh', bias: 0 }] }, 'net.json, layers[0].bias: expected true or false; found 0.'],
    ['0 inputs', { ...base(), input: 0 }, 'net.json, input: expected a number ≥ 1; found 0.'],
    ['an unknown init scheme', { ...base(), init: { scheme: 'glorot' } }, 'net.json, init.scheme: expected one of "normal", "uniform", "xavier", "he"; found "glorot".'],
    ['init scale 0', { ...base(), init: { scale: 0 } }, 'net.json, init.scale: expected a number > 0; found 0.'],
    ['softmax on a hidden layer', { ...base(), layers: [{ units: 3, activation: 'softmax' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy' },
      'net.json, layers[0].activation: expected softmax only on the output layer; found softmax on hidden layer 1 of 2.'],
    ['both outputGradient and outputDelta', { ...base(), backward: { outputGradient: 'a - y', outputDelta: 'a - y' } },
      'net.json, backward: expected either outputGradient or outputDelta; found both (outputDelta replaces outputGradient times the output derivative).'],
    ['too few activation derivatives', { ...base(), backward: { activationDerivatives: ['1 - z^2'] } },
      'net.json, backward.activationDerivatives: expected one entry per layer (2; null for a correct one); found 1.'],
    ['a derivative using y', { ...base(), backward: { activationDerivatives: ['1 - y', null] } },
      `net.json, backward.activationDerivatives[0]: expected an element-wise formula in z and/or a (mathjs syntax); found an unknown name "y" (only the variables z, a, the constants e and pi, and the functions ${FUNCTIONS} may be used).`],
    ['an unknown name in outputGradient', { ...base(), backward: { outputGradient: 'w' } },
      `net.json, backward.outputGradient: expected an element-wise formula in a, y (and z) (mathjs syntax); found an unknown name "w" (only the variables a, y, z, the constants e and pi, and the functions ${FUNCTIONS} may be used).`],
    ['an unknown backward property', { ...base(), backward: { delta: 'a - y' } },
      'net.json, backward.delta: expected only the properties outputGradient, outputDelta, activationDerivatives, reduction, l2; found an unknown property "delta".'],
    ['backward.l2 as a string', { ...base(), backward: { l2: 'yes' } }, 'net.json, backward.l2: expected true or false; found "yes".'],
  ])('%s', (_what, spec, expected) => {
    expect(message(spec)).toBe(expected);
  });

  it('the error carries the file, the place, what was expected and what was found', () => {
    try {
      parseSpec({ ...base(), reduction: 'avg' }, 'nets/a.json');
      throw new Error('accepted');
    } catch (err) {
      expect(err).toMatchObject({ file: 'nets/a.json', place: 'reduction', expected: 'one of "mean", "sum"', found: '"avg"' });
    }
  });
});

describe('loadSpec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-check-spec-'));

  it('reads a file (a UTF-8 byte-order mark is fine)', () => {
    const file = join(dir, 'net.json');
    writeFileSync(file, '\uFEFF' + JSON.stringify(base()));
    expect(loadSpec(file).model.layers).toHaveLength(2);
  });

  it('a missing file and a JSON syntax error name the file', () => {
    const missing = join(dir, 'nope.json');
    expect(() => loadSpec(missing)).toThrow(`${missing}: expected a network spec (net.json); found no such file.`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "layers": [],\n}\n');
    expect(() => loadSpec(bad)).toThrow(UserError);
    expect(() => loadSpec(bad)).toThrow(`${bad}, line 3, column 1: expected a network spec (net.json) in valid JSON; found "}" where a property name in double quotes was expected (a trailing comma?).`);
  });
});

describe('hints for names net.json does not know', () => {
  const ACTIVATIONS = '"sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "elu", "softmax"';
  const activation = (a: unknown) => message({ ...base(), layers: [{ units: 3, activation: a }, { units: 1, activation: 'sigmoid' }] });
  const loss = (l: string) => message({ ...base(), loss: l });
  const LOSSES = '"binary_cross_entropy", "mean_squared_error", "categorical_cross_entropy"';
  const TYPES = '"dense", "conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm", "layernorm", "dropout", "activation"';

  it.each([
    ['gelu', '"gelu" is not built in: write it as a formula in z, { "expr": "0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z^3)))" } (GELU in its tanh approximation, PyTorch\'s approximate="tanh": the exact one needs erf, which formulas do not have).'],
    ['Mish', '"Mish" is not built in: write it as a formula in z, { "expr": "z * tanh(softplus(z))" } (mish).'],
    ['ReLU', 'Did you mean "relu"?'],
    ['sigmod', 'Did you mean "sigmoid"?'],
    ['identity', 'Did you mean "linear"?'],
    ['leakyReLU', 'Did you mean "leaky_relu"?'],
    ['prelu', 'PReLU\'s α is learned, and only W and b are parameters here; for a fixed α write { "name": "leaky_relu", "alpha": 0.25 }.'],
    ['log_softmax', 'Use "softmax" on the output layer with "loss": "categorical_cross_entropy": together they are log-softmax with the negative log-likelihood.'],
    ['bent', 'Any other element-wise activation can be written as a formula in z, for example swish: { "expr": "z / (1 + exp(-z))" } (mathjs syntax; the functions are exp, log, log1p, expm1, tanh, sinh, cosh, sqrt, abs, sign, max, min, sigmoid and softplus).'],
  ])('activation "%s"', (name, hint) => {
    expect(activation(name)).toBe(`net.json, layers[0].activation: expected one of ${ACTIVATIONS}; found "${name}". ${hint}`);
  });

  it('in the { "name": … } form too; a built-in name there keeps the plain message', () => {
    expect(activation({ name: 'silu' })).toBe('net.json, layers[0].activation.name: expected one of "leaky_relu", "elu"; found "silu". "silu" is not built in: write it as a formula in z, { "expr": "z / (1 + exp(-z))" } (SiLU, also called swish).');
    expect(activation({ name: 'relu', alpha: 0.1 })).toBe('net.json, layers[0].activation.name: expected one of "leaky_relu", "elu"; found "relu".');
  });

  it.each([
    ['mse', 'Did you mean "mean_squared_error"? It is ½‖a − y‖² per sample; PyTorch\'s MSELoss() (no ½, and a mean over the outputs too) is { "expr": "(a - y)^2 / K" } with K the number of outputs written as a number.'],
    ['cross_entropy', 'Did you mean "categorical_cross_entropy"? It goes with a "softmax" output layer (PyTorch\'s CrossEntropyLoss is that, with the softmax inside the loss); data.csv holds a class index 0…K−1 or K one-hot columns.'],
    ['bce', 'Did you mean "binary_cross_entropy"? It goes with a "sigmoid" output layer and a 0/1 label column.'],
    ['BCEWithLogitsLoss', 'Use "binary_cross_entropy" with "activation": "sigmoid" on the output layer: together they are BCE with logits.'],
    ['binary_cross_entrop', 'Did you mean "binary_cross_entropy"?'],
    ['L1Loss', 'It is not built in: write it as a formula in a and y, { "expr": "abs(a - y)" } (the absolute error, summed over the output units).'],
    ['poisson', 'Any other loss can be written as a formula in a and y, per output unit (summed over the units), for example { "expr": "abs(a - y)" }.'],
  ])('loss "%s"', (name, hint) => {
    expect(loss(name)).toBe(`net.json, loss: expected one of ${LOSSES}; found "${name}". ${hint}`);
  });

  it.each([
    ['Conv2D', 'Did you mean "conv2d"?'],
    ['MaxPooling2D', 'Did you mean "maxpool2d"?'],
    ['BatchNorm1d', 'Did you mean "batchnorm"?'],
    ['Dense', 'Write "dense", or leave "type" out: a layer is dense unless it says otherwise.'],
    ['ReLU', 'Write { "type": "activation", "activation": "relu" }, or put the activation in the layer before it.'],
    ['lstm', 'A network with "lstm" layers cannot be checked: net.json describes dense, convolution, pooling, normalisation, dropout and activation layers.'],
  ])('a layer of "type" "%s", whatever else is wrong with it', (type, hint) => {
    // The type picks the fields an entry may have: until it is one of net.json's, the type is what the message is about.
    const spec = { ...base(), layers: [{ units: 3, activation: 'tanh' }, { type, filters: 8, kernel: 3 }, { units: 1, activation: 'sigmoid' }] };
    expect(message(spec)).toBe(`net.json, layers[1].type: expected one of ${TYPES}; found ${JSON.stringify(type)}. ${hint}`);
  });

  describe('every suggested formula compiles and computes its function (PyTorch 1.13 values, scripts/hint_formulas.py)', () => {
    const ref = JSON.parse(readFileSync(new URL('../fixtures/hints/formulas.json', import.meta.url), 'utf8')) as {
      z: number[]; activations: Record<string, number[]>; a: number[]; y: number[]; losses: Record<string, number[]>;
    };
    const exprOf = (hint: string) => /\{ "expr": "([^"]+)" \}/.exec(hint)![1];
    it.each(Object.keys(ref.activations))('%s', (name) => {
      const expr = exprOf(activationHint(name));
      const f = parse({ ...base(), layers: [{ units: 3, activation: { expr } }, { units: 1, activation: 'sigmoid' }] }).model.layers[0].activation;
      ref.z.forEach((z, i) => expect(f.f(z)).toBeCloseTo(ref.activations[name][i], 12));
    });
    it.each(Object.keys(ref.losses))('%s', (name) => {
      const expr = exprOf(lossHint(name));
      const l = parse({ ...base(), loss: { expr } }).model.loss;
      ref.a.forEach((a, i) => expect(l.value(a, ref.y[i])).toBeCloseTo(ref.losses[name][i], 12));
    });
  });
});
