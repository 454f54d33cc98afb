package dev.quanta.loader.onnx;
/** placeholder */ final class Placeholder {}
