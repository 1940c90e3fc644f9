"""backprop-check from Python: your code is the model.

    import backprop_check as bc
    bc.serve(params, cost, grads)            # at the end of my_net.py: npx backprop-check --model "python3 my_net.py"
    report = bc.check(params, cost, grads)   # in a notebook or script: prints the table, returns the JSON report
    bc.assert_gradients(params, cost, grads) # in a test: AssertionError with the table and the findings

params is a dict of name -> NumPy array (or torch tensor, nested list of floats, float), cost(params)
returns the cost as a float and grads(params) a dict with the same names. The protocol is the one in
backprop-check's SPEC ("Your code is the model"); NumPy is optional.
"""
from ._check import BackpropCheckError, assert_gradients, check
from ._serve import PROTOCOL, serve

__all__ = ["serve", "check", "assert_gradients", "BackpropCheckError", "PROTOCOL"]
__version__ = "0.1.0"
