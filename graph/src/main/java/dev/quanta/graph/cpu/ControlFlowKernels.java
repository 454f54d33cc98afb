package dev.quanta.graph.cpu;

import dev.quanta.graph.GraphException;
import dev.quanta.graph.KernelContext;
import dev.quanta.graph.Outputs;
import dev.quanta.graph.Session;
import dev.quanta.graph.SessionOptions;
import dev.quanta.graph.Value;
import dev.quanta.graph.ValueKernel;
import dev.quanta.graph.Values;
import dev.quanta.graph.ops.If;
import dev.quanta.graph.ops.Loop;
import dev.quanta.tensor.DType;
import dev.quanta.tensor.Shape;
import dev.quanta.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Loop and If: their subgraphs run as nested sessions on the enclosing run's threads, and every
 * result is copied into the outer run's memory before the nested run's memory is freed.
 */
final class ControlFlowKernels {

    private ControlFlowKernels() {
    }

    static ValueKernel loop(Loop op) {
        Session body = new Session(op.body(), new SessionOptions(1, false));
        return (context, inputs) -> {
            long trips = inputs[0] == null ? Long.MAX_VALUE : scalar(inputs[0], context).loadLong(((Tensor) inputs[0]).offset());
            boolean condition = inputs[1] == null || scalar(inputs[1], context).loadLong(((Tensor) inputs[1]).offset()) != 0;
            int carried = op.carried();
            List<Value> bodyInputs = body.graph().inputs();
            List<Value> bodyOutputs = body.graph().outputs();
            int scanned = bodyOutputs.size() - 1 - carried;
            if (scanned < 0 || bodyInputs.size() < 2 + carried) {
                throw context.error("the loop body takes " + bodyInputs.size() + " inputs and gives " + bodyOutputs.size()
                        + " outputs for " + carried + " carried values");
            }
            Object[] state = new Object[carried];
            System.arraycopy(inputs, 2, state, 0, carried);
            List<List<Tensor>> scans = new ArrayList<>();
            for (int s = 0; s < scanned; s++) {
                scans.add(new ArrayList<>());
            }
            for (long iteration = 0; iteration < trips && condition; iteration++) {
                Map<String, Object> feeds = new HashMap<>();
                feeds.put(bodyInputs.get(0).name(), context.arena().fromLongs(DType.INT64, new long[] {iteration}));
                feeds.put(bodyInputs.get(1).name(), context.arena().fromBooleans(new boolean[] {condition}));
                for (int k = 0; k < carried; k++) {
                    feeds.put(bodyInputs.get(2 + k).name(), state[k]);
                }
                for (int c = 2 + carried; c < bodyInputs.size(); c++) {
                    feeds.put(bodyInputs.get(c).name(), inputs[c]);
                }
                try (Outputs outputs = body.runWithin(context, feeds)) {
                    Tensor next = outputs.get(bodyOutputs.get(0).name());
                    condition = next.loadLong(next.offset()) != 0;
                    for (int k = 0; k < carried; k++) {
                        state[k] = Values.ownedBy(outputs.value(bodyOutputs.get(1 + k).name()), context.arena());
                    }
                    for (int s = 0; s < scanned; s++) {
                        scans.get(s).add((Tensor) Values.ownedBy(outputs.get(bodyOutputs.get(1 + carried + s).name()),
                                context.arena()));
                    }
                }
            }
            Object[] results = new Object[carried + scanned];
            System.arraycopy(state, 0, results, 0, carried);
            for (int s = 0; s < scanned; s++) {
                results[carried + s] = stack(scans.get(s), bodyOutputs.get(1 + carried + s), context);
            }
            return results;
        };
    }

    /** Per-iteration tensors stacked along a new first axis; [0] of the declared type when there were none. */
    private static Tensor stack(List<Tensor> parts, Value declared, KernelContext context) {
        if (parts.isEmpty()) {
            DType dtype = declared.type() == null ? DType.FLOAT : declared.type().dtype();
            return context.allocate(dtype, Shape.of(0));
        }
        Tensor first = parts.get(0);
        long[] sizes = new long[first.rank() + 1];
        sizes[0] = parts.size();
        System.arraycopy(first.shape().sizes(), 0, sizes, 1, first.rank());
        Tensor out = context.allocate(first.dtype(), Shape.of(sizes));
        for (int i = 0; i < parts.size(); i++) {
            if (!parts.get(i).shape().equals(first.shape())) {
                throw context.error("scan output shapes differ between iterations: " + first + " and " + parts.get(i));
            }
            parts.get(i).copyTo(out.select(0, i));
        }
        return out;
    }

    static ValueKernel ifThenElse(If op) {
        Session thenBranch = new Session(op.thenBranch(), new SessionOptions(1, false));
        Session elseBranch = new Session(op.elseBranch(), new SessionOptions(1, false));
        return (context, inputs) -> {
            boolean condition = scalar(inputs[0], context).loadLong(((Tensor) inputs[0]).offset()) != 0;
            Session branch = condition ? thenBranch : elseBranch;
            int[] captures = condition ? op.thenCaptures() : op.elseCaptures();
            Map<String, Object> feeds = new HashMap<>();
            List<Value> branchInputs = branch.graph().inputs();
            for (int i = 0; i < branchInputs.size(); i++) {
                feeds.put(branchInputs.get(i).name(), inputs[1 + captures[i]]);
            }
            try (Outputs outputs = branch.runWithin(context, feeds)) {
                List<Value> declared = branch.graph().outputs();
                Object[] results = new Object[declared.size()];
                for (int i = 0; i < results.length; i++) {
                    results[i] = Values.ownedBy(outputs.value(declared.get(i).name()), context.arena());
                }
                return results;
            }
        };
    }

    private static Tensor scalar(Object value, KernelContext context) {
        if (!(value instanceof Tensor tensor) || tensor.elementCount() != 1) {
            throw new GraphException(context.node() + ": a trip count or condition must be a one-element tensor, not "
                    + value);
        }
        return tensor;
    }
}
