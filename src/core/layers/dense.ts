// The dense layer kind's parameters: W (units × inputs), then b (units × 1) when the layer has a bias.
export interface ParamSpec {
  /** The kind's name for the parameter ("W", "b"). */
  name: string;
  shape: number[];
}

/** W, then b when the layer has one: the order every list of a dense layer's tensors keeps. */
export function denseParams(layer: { units: number; inputs: number; bias: boolean }): ParamSpec[] {
  const W: ParamSpec = { name: 'W', shape: [layer.units, layer.inputs] };
  return layer.bias ? [W, { name: 'b', shape: [layer.units, 1] }] : [W];
}
