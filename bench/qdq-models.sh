#!/usr/bin/env bash
# Statically quantized CNNs in the QDQ form ONNX Runtime's quantizer writes (quantize_static, QuantFormat.QDQ,
# MinMax calibration), timed side by side with ONNX Runtime: torchvision's ResNet-18 and MobileNetV2 (random
# weights, batch-norm statistics measured on random images, then folded into the convolutions as the quantizer's
# pre-processing does), each with int8 weights per tensor, per output channel, and per channel in 7 bits
# (reduce_range). Activations are uint8, asymmetric; biases int32 at x_scale·w_scale; a Relu or Clip goes into
# the range of its input's producer where nothing else reads that value; MaxPool, Flatten and Reshape keep their
# input's parameters; the graph's output is quantized too. Calibration runs the float model through Quanta, every intermediate value an
# output, on 8 random images. ONNX Runtime's own quantizer is a Python package this machine cannot install; this
# writes the same form, which ONNX Runtime fuses into its QLinear kernels as it does its quantizer's output.
# Needs Debian's PyTorch (bookworm: apt-get install python3-torch python3-torchvision python3-onnx) or any Python
# with torch, torchvision, onnx and numpy (PYTHON=...). Usage: bench/qdq-models.sh [DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/target/qdq-models}
PYTHON=${PYTHON:-/usr/bin/python3}
MODELS=(resnet18 mobilenet_v2)
mkdir -p "$DIR"

# 1. Float models, batch norm folded; each also as a copy whose intermediate values are all outputs.
"$PYTHON" - "$DIR" "${MODELS[@]}" <<'EOF'
import os, sys, numpy as np, onnx, torch, torchvision
from onnx import helper, TensorProto
from torch.nn.utils.fusion import fuse_conv_bn_eval
directory, names = sys.argv[1], sys.argv[2:]
torch.manual_seed(0)
np.random.seed(1)
np.save(os.path.join(directory, 'calibration.npy'), np.random.randn(8, 3, 224, 224).astype(np.float32))
np.save(os.path.join(directory, 'image.npy'), np.random.randn(1, 3, 224, 224).astype(np.float32))

def fold(module):
    children = list(module._modules.items())
    for i, (name, child) in enumerate(children):
        previous = module._modules[children[i - 1][0]] if i > 0 else None
        if isinstance(child, torch.nn.BatchNorm2d) and isinstance(previous, torch.nn.Conv2d):
            module._modules[children[i - 1][0]] = fuse_conv_bn_eval(previous, child)
            module._modules[name] = torch.nn.Identity()
        else:
            fold(child)

for name in names:
    target = os.path.join(directory, name + '.onnx')
    if os.path.exists(target):
        continue
    model = getattr(torchvision.models, name)()
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(8, 3, 224, 224))
    model.eval()
    fold(model)
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), target, opset_version=13, input_names=['input'],
                      output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    # Intermediate values renamed t0, t1, ... (names the .npy files can carry), then all made outputs.
    m = onnx.load(target)
    outputs = {o.name for o in m.graph.output}
    renamed = {}
    for node in m.graph.node:
        for o in node.output:
            if o not in outputs:
                renamed[o] = 't%d' % len(renamed)
    for node in m.graph.node:
        node.input[:] = [renamed.get(i, i) for i in node.input]
        node.output[:] = [renamed.get(o, o) for o in node.output]
    onnx.save(m, target)
    for node in m.graph.node:
        if node.op_type != 'Constant':
            m.graph.output.extend(helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                                  for o in node.output if o not in outputs)
    onnx.save(m, os.path.join(directory, name + '-tapped.onnx'))
    print('exported', name, flush=True)
EOF

# 2. Calibration: every intermediate value of the float model on the calibration images.
for model in "${MODELS[@]}"; do
  if [[ ! -d $DIR/$model-calibration ]]; then
    "$ROOT/quanta" run --input input="$DIR/calibration.npy" --output-dir "$DIR/$model-calibration" \
      "$DIR/$model-tapped.onnx" > /dev/null
  fi
done

# 3. The QDQ models.
"$PYTHON" - "$DIR" "${MODELS[@]}" <<'EOF'
import os, sys, numpy as np, onnx
from onnx import helper, numpy_helper
directory, names = sys.argv[1], sys.argv[2:]

def quantize(name, mode):
    m = onnx.load(os.path.join(directory, name + '.onnx'))
    g = m.graph
    weights = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    calibration = os.path.join(directory, name + '-calibration')
    ranges = {f[:-4]: np.load(os.path.join(calibration, f)) for f in os.listdir(calibration)}
    ranges['input'] = np.load(os.path.join(directory, 'calibration.npy'))
    ranges = {k: (float(v.min()), float(v.max())) for k, v in ranges.items()}
    output = g.output[0].name
    readers = lambda value: [n for n in g.node if value in n.input]
    for node in list(g.node):  # Relu and Clip of a value only they read: into the range of its producer's output
        if node.op_type in ('Relu', 'Clip'):
            producer = [p for p in g.node if node.input[0] in p.output]
            if producer and len(readers(node.input[0])) == 1:
                producer[0].output[0] = node.output[0]
                g.node.remove(node)
    parameters = {}
    def activation(value):
        if value not in parameters:
            low, high = min(ranges[value][0], 0.0), max(ranges[value][1], 0.0)
            scale = np.float32((high - low) / 255.0) if high > low else np.float32(1.0)
            parameters[value] = (scale, int(np.clip(np.round(-low / scale), 0, 255)))
        return parameters[value]
    for node in g.node:
        if node.op_type in ('MaxPool', 'Flatten', 'Reshape'):
            parameters[node.output[0]] = activation(node.input[0])
    initializers, nodes = [], []
    def constant(value_name, array):
        initializers.append(numpy_helper.from_array(array, value_name))
        return value_name
    quantized = ['input'] + [n.output[0] for n in g.node if n.op_type in (
        'Conv', 'Add', 'Gemm', 'GlobalAveragePool', 'MaxPool', 'Flatten', 'Reshape', 'Relu', 'Clip')]
    for value in quantized:
        scale, zero = activation(value)
        s = constant(value + '_scale', np.array(scale, np.float32))
        z = constant(value + '_zero_point', np.array(zero, np.uint8))
        source = value + '_float' if value == output else value
        if value == output:
            for node in g.node:
                node.output[:] = [source if o == value else o for o in node.output]
        for reader in readers(source):
            reader.input[:] = [value + '_dequantized' if i == source else i for i in reader.input]
        nodes.append(helper.make_node('QuantizeLinear', [source, s, z], [value + '_quantized']))
        nodes.append(helper.make_node('DequantizeLinear', [value + '_quantized', s, z],
                                      [value if value == output else value + '_dequantized']))
    per_channel = mode != 'per-tensor'
    limit = 64 if mode == 'per-channel-7bit' else 127
    for node in g.node:
        if node.op_type not in ('Conv', 'Gemm') or node.input[1] not in weights:
            continue
        w = weights[node.input[1]]
        largest = np.abs(w).reshape(w.shape[0], -1).max(axis=1) if per_channel else np.array(np.abs(w).max())
        w_scale = (np.maximum(largest, 1e-12) / limit).astype(np.float32)
        shape = [-1] + [1] * (w.ndim - 1) if per_channel else []
        q = np.clip(np.round(w / w_scale.reshape(shape)), -limit, limit).astype(np.int8)
        axis = {'axis': 0} if per_channel else {}
        nodes.append(helper.make_node('DequantizeLinear', [
            constant(node.input[1] + '_quantized', q), constant(node.input[1] + '_scale', w_scale),
            constant(node.input[1] + '_zero_point', np.zeros(w_scale.shape, np.int8))],
            [node.input[1] + '_dequantized'], **axis))
        x_scale = parameters[node.input[0][:-len('_dequantized')]][0]
        node.input[1] += '_dequantized'
        if len(node.input) > 2 and node.input[2] in weights:
            b_scale = (np.float32(x_scale) * w_scale).astype(np.float32)
            b = np.round(weights[node.input[2]] / b_scale).astype(np.int32)
            nodes.append(helper.make_node('DequantizeLinear', [
                constant(node.input[2] + '_quantized', b), constant(node.input[2] + '_scale', b_scale),
                constant(node.input[2] + '_zero_point', np.zeros(b_scale.shape, np.int32))],
                [node.input[2] + '_dequantized'], **axis))
            node.input[2] += '_dequantized'
    used = {i for n in list(g.node) + nodes for i in n.input}
    kept = [i for i in g.initializer if i.name in used] + initializers
    del g.initializer[:]
    g.initializer.extend(kept)
    # Topological order, each node once its inputs are there.
    pending, ready, ordered = list(g.node) + nodes, {i.name for i in g.input} | {i.name for i in kept}, []
    while pending:
        runnable = [n for n in pending if all(i == '' or i in ready for i in n.input)]
        assert runnable, 'a cycle'
        for n in runnable:
            ordered.append(n)
            ready.update(n.output)
            pending.remove(n)
    del g.node[:]
    g.node.extend(ordered)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(directory, '%s-qdq-%s.onnx' % (name, mode)))

for name in names:
    for mode in ('per-tensor', 'per-channel', 'per-channel-7bit'):
        quantize(name, mode)
    print('quantized', name, flush=True)
EOF

for model in "${MODELS[@]}"; do
  for variant in "" -qdq-per-tensor -qdq-per-channel -qdq-per-channel-7bit; do
    echo "== $model$variant"
    "$ROOT/quanta" bench --vs-ort --threads 2 --iters 40 --input input="$DIR/image.npy" "$DIR/$model$variant.onnx" 2>&1 \
      | grep -E "Quanta /|Quanta  |ONNX Runtime  "
  done
done
