"""Bot-Academy/NeuralNetworkFromScratch's nn.py (a from-scratch network for a YouTube tutorial), whose
backpropagation a pull request calls "formally wrong": the output delta has no sigmoid derivative, and
the hidden layer's delta reads weights already updated, because layers_new = np.copy(layers) copies
the list but not the layer dicts, so layers_new[idx]['weights'] = ... rewrites layers[idx]['weights'].
Also in the same lines: the cost (1/B)·Σ(a - y)² gets no 2/B in its gradient, and each bias gradient is
np.sum(delta) over every axis, one number for all units. Samples in rows, W (inputs, units).
The fix below is this code with all four fixed; lr is main.py's 0.001, a batch of 4."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/Bot-Academy/NeuralNetworkFromScratch/pull/3"
TITLE = "output delta without sigmoid', hidden delta from weights updated through a shared dict, np.sum(delta) biases"
QUOTE = """
    last_delta = None
    # to make simultaneous weight updates
    layers_new = np.copy(layers)
    for idx in range(len(layers) - 1, 0, -1):
        if idx == len(layers) - 1:
            delta = layers[idx]['neuron_values'] - labels
            jacobian_output_weights = np.transpose(layers[idx-1]['neuron_values']) @ delta
            jacobian_output_bias = np.sum(delta)
            layers_new[idx]['weights'] = layers[idx]['weights'] - learning_rate * jacobian_output_weights
            layers_new[idx]['bias'] = layers[idx]['bias'] - learning_rate * jacobian_output_bias
        else:
            delta = layers[idx+1]['weights'] @ np.transpose(last_delta) * np.transpose(apply_activation_function_derivative(layers[idx]))
            jacobian_hidden_weights = np.transpose(layers[idx-1]['neuron_values']) @ np.transpose(delta)
            jacobian_hidden_bias = np.sum(delta)
"""
BUG = ("the output delta is a - y, without sigmoid'(z) (and without the 2/B of (1/B)·Σ(a - y)²); the hidden delta uses the "
       "updated W2; db is np.sum(delta) over units and samples (layer 2, reaches layer 1)")
EXPECT = {"codes": ["wrong-output-gradient"], "layer": 2}

LR, B = 0.001, 4
SPEC = {
    "input": 6,
    "layout": "rows",
    "layers": [{"units": 5, "activation": "sigmoid"}, {"units": 3, "activation": "sigmoid"}],
    "loss": {"expr": "(a - y)^2"},
}


def setup():
    rng = np.random.default_rng(1509)
    data = rng.random((B, 6))
    labels = np.eye(3)[rng.integers(0, 3, B)]
    sizes = [6, 5, 3]
    P = {}
    for idx in (1, 2):
        # nn.py's uniform(-1, 1) / fan_in, 4 times larger so that the hidden gradients are not tiny
        P[f"W{idx}"] = rng.uniform(-1, 1, (sizes[idx - 1], sizes[idx])) / sizes[idx - 1] * 4
        P[f"b{idx}"] = rng.uniform(-1, 1, (sizes[idx],))
    return data, labels, P


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def backpropagation(data, labels, P, fixed):
    layers = [{"neuron_values": data}]
    for idx in (1, 2):
        pre = P[f"b{idx}"] + layers[idx - 1]["neuron_values"] @ P[f"W{idx}"]
        layers.append({"weights": P[f"W{idx}"].copy(), "bias": P[f"b{idx}"].copy(), "pre_neuron_values": pre, "neuron_values": sigmoid(pre)})
    layers_new = np.copy(layers) if not fixed else [dict(layer) for layer in layers]
    grads = {}
    last_delta = None
    for idx in range(len(layers) - 1, 0, -1):
        a = layers[idx]["neuron_values"]
        derivative = a * (1 - a)
        if idx == len(layers) - 1:
            delta = layers[idx]["neuron_values"] - labels
            if fixed:
                delta = 2 / B * delta * derivative
            jacobian_weights = np.transpose(layers[idx - 1]["neuron_values"]) @ delta
            jacobian_bias = np.sum(delta, axis=0) if fixed else np.full(delta.shape[1], np.sum(delta))
        else:
            delta = layers[idx + 1]["weights"] @ np.transpose(last_delta) * np.transpose(derivative)
            jacobian_weights = np.transpose(layers[idx - 1]["neuron_values"]) @ np.transpose(delta)
            jacobian_bias = np.sum(delta, axis=1) if fixed else np.full(delta.shape[0], np.sum(delta))
        layers_new[idx]["weights"] = layers[idx]["weights"] - LR * jacobian_weights
        layers_new[idx]["bias"] = layers[idx]["bias"] - LR * jacobian_bias
        grads[f"dW{idx}"], grads[f"db{idx}"] = jacobian_weights, jacobian_bias
        last_delta = delta
    return grads


def write(here=os.path.dirname(os.path.abspath(__file__))):
    X, Y, P = setup()
    common.write_net_case(sys.modules[__name__], here, SPEC, X, Y, P,
                          backpropagation(X, Y, P, False), backpropagation(X, Y, P, True))


if __name__ == "__main__":
    write()
