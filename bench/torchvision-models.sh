#!/usr/bin/env bash
# torchvision's networks exported to ONNX by PyTorch, timed side by side with ONNX Runtime.
# Weights are random (pretrained ones would need a download), but batch-norm statistics are
# measured on random images first, so activations keep a realistic scale: left at their defaults,
# they shrink layer after layer into subnormal floats, which no real model produces.
# Needs Debian's PyTorch (bookworm: apt-get install python3-torch python3-torchvision python3-onnx)
# or any Python with torch, torchvision and onnx (PYTHON=...). Usage: bench/torchvision-models.sh [DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${1:-$ROOT/target/torchvision-models}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p "$DIR"

"$PYTHON" - "$DIR" <<'EOF'
import os, sys, torch, torchvision
directory = sys.argv[1]
torch.manual_seed(0)
M = torchvision.models
image = (1, 3, 224, 224)
models = {
    'resnet18': (lambda: M.resnet18(), image),
    'mobilenet_v3_small': (lambda: M.mobilenet_v3_small(), image),
    'efficientnet_b0': (lambda: M.efficientnet_b0(), image),
    'squeezenet1_0': (lambda: M.squeezenet1_0(), image),
    'shufflenet_v2_x0_5': (lambda: M.shufflenet_v2_x0_5(), image),
    'densenet121': (lambda: M.densenet121(), image),
    'googlenet': (lambda: M.googlenet(aux_logits=False, init_weights=True), image),
    'inception_v3': (lambda: M.inception_v3(aux_logits=False, init_weights=True), (1, 3, 299, 299)),
    'regnet_y_400mf': (lambda: M.regnet_y_400mf(), image),
    'mnasnet0_5': (lambda: M.mnasnet0_5(), image),
    'convnext_tiny': (lambda: M.convnext_tiny(), image),
    'vit_b_16': (lambda: M.vit_b_16(), image),
    'swin_t': (lambda: M.swin_t(), image),
    'maxvit_t': (lambda: M.maxvit_t(), image),
    'lraspp': (lambda: M.segmentation.lraspp_mobilenet_v3_large(weights_backbone=None), (1, 3, 320, 320)),
    'r3d_18': (lambda: M.video.r3d_18(), (1, 3, 8, 112, 112)),
    'r2plus1d_18': (lambda: M.video.r2plus1d_18(), (1, 3, 8, 112, 112)),
}
for name, (make, shape) in models.items():
    target = os.path.join(directory, name + '.onnx')
    if os.path.exists(target):
        continue
    model = make()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    model.train()
    with torch.no_grad():
        for _ in range(3 if norms else 0):
            model(torch.randn(4, *shape[1:]))
    model.eval()
    torch.onnx.export(model, (torch.randn(*shape),), target, opset_version=17, input_names=['x'],
                      dynamic_axes={'x': {0: 'batch'}})
    print('exported', name, flush=True)
EOF

for model in resnet18 mobilenet_v3_small efficientnet_b0 squeezenet1_0 shufflenet_v2_x0_5 densenet121 googlenet \
    inception_v3 regnet_y_400mf mnasnet0_5 convnext_tiny vit_b_16 swin_t maxvit_t lraspp r3d_18 r2plus1d_18; do
  echo "== $model"
  "$ROOT/quanta" bench --vs-ort --threads 2 --iters 20 "$DIR/$model.onnx" 2>&1 | grep -E "Quanta /|Quanta  |ONNX Runtime  "
done
