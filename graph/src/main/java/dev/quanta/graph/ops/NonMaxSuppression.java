package dev.quanta.graph.ops;

/**
 * Inputs (boxes [batch, boxes, 4], scores [batch, classes, boxes], max_output_boxes_per_class?,
 * iou_threshold?, score_threshold?): ONNX's NonMaxSuppression. Per batch and class, the boxes
 * scoring above the threshold are taken best first, each dropped if it overlaps (IoU above the
 * threshold) one already taken, up to the maximum; int64 [taken, 3] of (batch, class, box).
 * Boxes are corners (y1, x1, y2, x2 in either order) or, with {@code centerPointBox}, (x, y, width,
 * height) about their centre.
 */
public record NonMaxSuppression(boolean centerPointBox) implements CoreOp {
}
