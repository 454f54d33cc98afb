package dev.quanta.graph.ops;

/**
 * Inputs (x, roi?, scales?, sizes?): x resampled on the given axes (null: all) by nearest,
 * (multi-)linear or cubic interpolation, with ONNX's coordinate transformations.
 */
public record Resize(Mode mode, Transform transform, NearestMode nearestMode, double cubicA, boolean excludeOutside,
        double extrapolationValue, boolean antialias, long[] axes, AspectPolicy aspectPolicy) implements CoreOp {

    public enum Mode { NEAREST, LINEAR, CUBIC }

    public enum Transform { HALF_PIXEL, HALF_PIXEL_SYMMETRIC, PYTORCH_HALF_PIXEL, ALIGN_CORNERS, ASYMMETRIC, TF_CROP_AND_RESIZE }

    public enum NearestMode { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL }

    public enum AspectPolicy { STRETCH, NOT_LARGER, NOT_SMALLER }
}
