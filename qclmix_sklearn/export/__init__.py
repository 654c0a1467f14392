"""ONNX export of fitted estimators."""
