package dev.quanta.graph.ops;

/**
 * Inputs (x, roi?, scales?, sizes?): x resampled on the given axes (null: all) by nearest,
 * (multi-)linear or cubic interpolation, with ONNX's coordinate transformations.
 */
public record Resize(Mode mode, Transform transform, NearestMode nearestMode, double cubicA, boolean excludeOutside,
        double extrapolationValue, boolean antialias, long[] axes, AspectPolicy aspectPolicy) implements CoreOp {

    /** The interpolation. */
    public enum Mode { NEAREST, LINEAR, CUBIC }

    /** How output coordinates map to input coordinates (ONNX's coordinate_transformation_mode). */
    public enum Transform { HALF_PIXEL, HALF_PIXEL_SYMMETRIC, PYTORCH_HALF_PIXEL, ALIGN_CORNERS, ASYMMETRIC, TF_CROP_AND_RESIZE }

    /** How nearest-neighbour coordinates round. */
    public enum NearestMode { ROUND_PREFER_FLOOR, ROUND_PREFER_CEIL, FLOOR, CEIL }

    /** How sizes keep the aspect ratio (ONNX's keep_aspect_ratio_policy). */
    public enum AspectPolicy { STRETCH, NOT_LARGER, NOT_SMALLER }
}
