"""Real bug: dennybritz/nn-from-scratch, a samples-in-rows (X.dot(W1)) 2 -> tanh 3 -> softmax 2 net
whose calculate_loss returns the MEAN over the examples of cross-entropy plus the L2 term,
1/m (sum CE + lambda/2 sum W^2), while build_model's backprop gradients are those of the SUM,
sum dCE + lambda W: every tensor m times too large (issue #13: the gradients "should be averaged
over the data batch"). Reproduced with the notebook's formulas, reg_lambda = 0.01, m = 20."""
import os
import sys
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import common  # noqa: E402

SOURCE = "https://github.com/dennybritz/nn-from-scratch/issues/13"
TITLE = "gradient checks do not match (nn-from-scratch.ipynb: calculate_loss averages, build_model's gradients sum)"
QUOTE = """
Issue: "2. In `build_model`, the gradients (`dW1, dW2, db1, db2`) during backprop should be averaged over the data batch."
nn-from-scratch.ipynb, calculate_loss:
    data_loss = np.sum(corect_logprobs)
    # Add regulatization term to loss (optional)
    data_loss += reg_lambda/2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    return 1./num_examples * data_loss
build_model:
        delta3 = probs
        delta3[range(num_examples), y] -= 1
        dW2 = (a1.T).dot(delta3)
        db2 = np.sum(delta3, axis=0, keepdims=True)
        delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
        dW1 = np.dot(X.T, delta2)
        db1 = np.sum(delta2, axis=0)
        dW2 += reg_lambda * W2
        dW1 += reg_lambda * W1
"""
BUG = "loss convention: the cost is the mean over the m examples (L2 term included), the gradients are the sum's: every tensor m = 20 times too large (output, all layers; rows layout)"
EXPECT = {"codes": ["loss-convention", "wrong-reduction"], "layer": 2}

NN_INPUT_DIM, NN_HDIM, NN_OUTPUT_DIM, NUM_EXAMPLES, REG_LAMBDA = 2, 3, 2, 20, 0.01
SPEC = {
    "input": NN_INPUT_DIM,
    "layout": "rows",
    "layers": [{"units": NN_HDIM, "activation": "tanh"}, {"units": NN_OUTPUT_DIM, "activation": "softmax"}],
    "loss": "categorical_cross_entropy",
    "reduction": "mean",
    "l2": REG_LAMBDA,  # lambda/(2m) sum W^2 with "mean": calculate_loss's 1/m * lambda/2 * sum W^2
}


def gradients(X, y, model, fixed):
    """build_model's forward and backprop, one pass; the fix averages the gradients over the batch,
    the regularisation term with them, as calculate_loss averages it."""
    W1, b1, W2, b2 = model["W1"], model["b1"], model["W2"], model["b2"]
    num_examples = len(X)
    z1 = X.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    delta3 = probs
    delta3[range(num_examples), y] -= 1
    dW2 = (a1.T).dot(delta3)
    db2 = np.sum(delta3, axis=0, keepdims=True)
    delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
    dW1 = np.dot(X.T, delta2)
    db1 = np.sum(delta2, axis=0)
    dW2 += REG_LAMBDA * W2
    dW1 += REG_LAMBDA * W1
    if fixed:
        dW1, db1, dW2, db2 = (g / num_examples for g in (dW1, db1, dW2, db2))
    return {"dW1": dW1, "db1": db1.reshape(-1), "dW2": dW2, "db2": db2.reshape(-1)}


def write(here):
    rng = np.random.default_rng(36)
    X = rng.standard_normal((NUM_EXAMPLES, NN_INPUT_DIM))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # two classes, as make_moons gives two
    model = {
        "W1": rng.standard_normal((NN_INPUT_DIM, NN_HDIM)) / np.sqrt(NN_INPUT_DIM),
        "b1": rng.standard_normal(NN_HDIM) * 0.1,  # after a few passes b1, b2 are no longer 0
        "W2": rng.standard_normal((NN_HDIM, NN_OUTPUT_DIM)) / np.sqrt(NN_HDIM),
        "b2": rng.standard_normal(NN_OUTPUT_DIM) * 0.1,
    }
    common.write_net_case(types.SimpleNamespace(**globals()), here, SPEC, X, np.eye(NN_OUTPUT_DIM)[y], model,
                          gradients(X, y, model, fixed=False), gradients(X, y, model, fixed=True))


if __name__ == "__main__":
    write(os.path.dirname(os.path.abspath(__file__)))
