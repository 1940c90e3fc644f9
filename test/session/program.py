# A protocol program in Python with the standard library only, as a user would write one by hand:
# J = sum(w**2) over a 2x2 w, so dJ/dw = 2w; a step that makes w[1][1] negative gives J = NaN,
# which json.dumps writes bare (NaN), as the protocol allows. Debug output goes to stderr.
import json
import math
import sys

w = [[0.5, -1.0], [2.0, 0.25]]


def cost(v):
    if v[1][1] < 0:
        return math.nan
    return sum(x * x for row in v for x in row)


def say(obj):
    # stdout to a pipe is block-buffered: without the flush the answer would wait in the buffer.
    print(json.dumps(obj), flush=True)


print("serving", file=sys.stderr)
say({"protocol": "backprop-check/1", "params": {"w": w}})
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "bye":
        say({"id": req["id"]})
        break
    if req["op"] == "grads":
        say({"id": req["id"], "grads": {"w": [[2 * x for x in row] for row in w]}})
    elif req["op"] == "cost":
        say({"id": req["id"], "cost": cost(w)})
    else:
        costs = []
        for step in req["steps"]:
            v = [row[:] for row in w]
            i, j = step["index"]
            v[i][j] += step["delta"]
            costs.append(cost(v))
        say({"id": req["id"], "costs": costs})
